// TLS contexts for each side, and the per-server session slot that lets pooled and new server
// connections resume a TLS session.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "satlink/proxycore/config.hpp"

namespace satlink::proxycore::detail {

// Terminates TLS from clients: certificate files, or a self-signed pair made now.
std::unique_ptr<boost::asio::ssl::context> make_client_side_context(const TlsSettings& s);
// Originates TLS to servers.
std::unique_ptr<boost::asio::ssl::context> make_server_side_context(const TlsSettings& s);

// The last session a server gave us; offered on the next handshake when resumption is on.
class TlsSessionSlot {
 public:
  TlsSessionSlot() = default;
  ~TlsSessionSlot() { reset(nullptr); }
  TlsSessionSlot(const TlsSessionSlot&) = delete;
  TlsSessionSlot& operator=(const TlsSessionSlot&) = delete;
  void reset(SSL_SESSION* s) {
    if (session_) SSL_SESSION_free(session_);
    session_ = s;
  }
  SSL_SESSION* get() const { return session_; }

 private:
  SSL_SESSION* session_ = nullptr;
};

// Prepares an outgoing handshake: SNI, host name verification, the session to resume, and where
// to store the session the server issues (TLS 1.3 tickets arrive after the handshake).
void prepare_server_handshake(SSL* ssl, const TlsSettings& s, const std::string& host,
                              TlsSessionSlot* slot);

}  // namespace satlink::proxycore::detail
