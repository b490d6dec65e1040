#include "test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

namespace satlink::test {

namespace http = boost::beast::http;

struct TestClient::Tls {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  ~Tls() {
    // A well-behaved client says close_notify: OpenSSL marks the session of a connection freed
    // without it unresumable, and that session object is shared with later connections.
    if (ssl) {
      if (!(SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN)) SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    if (ctx) SSL_CTX_free(ctx);
  }
};

TestClient::TestClient(std::uint16_t port, ClientOptions options) : options_(options) {
  // A write to a connection the proxy closed must fail the test, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  timeval tv{options_.timeout_ms / 1000, (options_.timeout_ms % 1000) * 1000};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    throw std::runtime_error(std::string("connect failed: ") + std::strerror(errno));
  }
  if (options_.tls) {
    tls_ = std::make_unique<Tls>();
    tls_->ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(tls_->ctx, SSL_VERIFY_NONE, nullptr);
    if (options_.tls_version == 12) SSL_CTX_set_max_proto_version(tls_->ctx, TLS1_2_VERSION);
    if (options_.tls_version == 13) SSL_CTX_set_min_proto_version(tls_->ctx, TLS1_3_VERSION);
    SSL_CTX_set_session_cache_mode(tls_->ctx, SSL_SESS_CACHE_CLIENT);
    tls_->ssl = SSL_new(tls_->ctx);
    SSL_set_fd(tls_->ssl, fd_);
    SSL_set_tlsext_host_name(tls_->ssl, "localhost");
    if (options_.resume) SSL_set_session(tls_->ssl, options_.resume);
    if (SSL_connect(tls_->ssl) != 1) {
      ::close(fd_);
      throw std::runtime_error("TLS handshake failed");
    }
  }
}

TestClient::~TestClient() {
  tls_.reset();
  if (fd_ >= 0) ::close(fd_);
}

void TestClient::send(std::string_view bytes) {
  std::size_t step = 1;
  while (!bytes.empty()) {
    std::size_t n = options_.tiny_writes ? std::min(bytes.size(), step) : bytes.size();
    step = step % 3 + 1;
    long sent = tls_ ? SSL_write(tls_->ssl, bytes.data(), static_cast<int>(n))
                     : ::send(fd_, bytes.data(), n, MSG_NOSIGNAL);
    if (sent <= 0) throw std::runtime_error("send failed");
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
}

std::size_t TestClient::recv_some(char* data, std::size_t size) {
  long n = tls_ ? SSL_read(tls_->ssl, data, static_cast<int>(size)) : ::recv(fd_, data, size, 0);
  if (n > 0) {
    total_read_ += static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }
  if (n == 0) return 0;
  if (tls_) {
    const int err = SSL_get_error(tls_->ssl, static_cast<int>(n));
    if (err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SYSCALL) return 0;
    throw std::runtime_error("TLS read failed or timed out");
  }
  if (errno == ECONNRESET) return 0;
  throw std::runtime_error(std::string("recv failed or timed out: ") + std::strerror(errno));
}

Response TestClient::read_response(bool head_request) {
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  parser.header_limit(1 << 20);
  if (head_request) parser.skip(true);
  char buf[65536];
  bool eof = false;
  for (;;) {
    if (!pending_.empty()) {
      boost::beast::error_code ec;
      const auto used = parser.put(boost::asio::buffer(pending_), ec);
      pending_.erase(0, used);
      if (ec && ec != http::error::need_more) throw std::runtime_error("bad response: " + ec.message());
      if (parser.is_done()) break;
      if (used > 0) continue;  // more of pending_ may parse (e.g. the body behind the head)
    }
    if (eof) {
      boost::beast::error_code ec;
      parser.put_eof(ec);
      if (ec || !parser.is_done()) throw std::runtime_error("connection closed mid-response");
      break;
    }
    const std::size_t n = recv_some(buf, sizeof buf);
    if (n == 0)
      eof = true;
    else
      pending_.append(buf, n);
  }
  Response r;
  const auto& m = parser.get();
  r.status = static_cast<int>(m.result_int());
  r.version = static_cast<int>(m.version());
  r.body = m.body();
  r.chunked = parser.chunked();
  for (const auto& f : m) {
    std::string name(f.name_string());
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto& slot = r.headers[name];
    slot += slot.empty() ? std::string(f.value()) : ", " + std::string(f.value());
  }
  return r;
}

namespace {
template <class Message>
void copy_head(const Message& m, Response& r) {
  r.status = static_cast<int>(m.result_int());
  r.version = static_cast<int>(m.version());
  for (const auto& f : m) {
    std::string name(f.name_string());
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto& slot = r.headers[name];
    slot += slot.empty() ? std::string(f.value()) : ", " + std::string(f.value());
  }
}
}  // namespace

Response TestClient::read_response_streaming(const BodySink& on_body, bool head_request) {
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  parser.header_limit(1 << 20);
  if (head_request) parser.skip(true);
  std::vector<char> body(65536);
  std::vector<char> buf(65536);
  std::uint64_t offset = 0;
  bool eof = false;
  for (;;) {
    if (!pending_.empty()) {
      const bool give = parser.is_header_done();
      if (give) {
        parser.get().body().data = body.data();
        parser.get().body().size = body.size();
      }
      boost::beast::error_code ec;
      const auto used = parser.put(boost::asio::buffer(pending_), ec);
      pending_.erase(0, used);
      if (give) {
        const std::size_t n = body.size() - parser.get().body().size;
        if (n > 0 && on_body) on_body(offset, std::string_view(body.data(), n));
        offset += n;
      }
      if (ec == http::error::need_buffer) ec = {};
      if (ec && ec != http::error::need_more)
        throw std::runtime_error("bad response: " + ec.message());
      if (parser.is_done()) break;
      if (used > 0) continue;
    }
    if (eof) {
      boost::beast::error_code ec;
      parser.put_eof(ec);
      if (ec || !parser.is_done()) throw std::runtime_error("connection closed mid-response");
      break;
    }
    const std::size_t n = recv_some(buf.data(), buf.size());
    if (n == 0)
      eof = true;
    else
      pending_.append(buf.data(), n);
  }
  Response r;
  r.chunked = parser.chunked();
  copy_head(parser.get(), r);
  return r;
}

std::string TestClient::read_exactly(std::size_t n) {
  std::string out;
  const std::size_t take = std::min(n, pending_.size());
  out = pending_.substr(0, take);
  pending_.erase(0, take);
  char buf[65536];
  while (out.size() < n) {
    const std::size_t got = recv_some(buf, std::min(sizeof buf, n - out.size()));
    if (got == 0) throw std::runtime_error("connection closed after " + std::to_string(out.size()) +
                                           " of " + std::to_string(n) + " bytes");
    out.append(buf, got);
  }
  return out;
}

std::string TestClient::read_until_close() {
  std::string out = std::move(pending_);
  pending_.clear();
  char buf[65536];
  for (;;) {
    const std::size_t n = recv_some(buf, sizeof buf);
    if (n == 0) {
      shutdown_send();  // as a browser does on EOF: the proxy's lingering close ends at once
      return out;
    }
    out.append(buf, n);
  }
}

bool TestClient::peer_closed() {
  if (!pending_.empty()) return false;
  char c;
  try {
    if (recv_some(&c, 1) != 0) return false;
    shutdown_send();  // as a browser does on EOF
    return true;
  } catch (const std::exception&) {
    return false;  // timed out: still open
  }
}

void TestClient::shutdown_send() {
  if (tls_ && tls_->ssl && !(SSL_get_shutdown(tls_->ssl) & SSL_SENT_SHUTDOWN))
    SSL_shutdown(tls_->ssl);  // close_notify before the TCP half-close
  ::shutdown(fd_, SHUT_WR);
}

SSL_SESSION* TestClient::tls_session() const {
  return tls_ ? SSL_get1_session(tls_->ssl) : nullptr;
}

bool TestClient::tls_resumed() const { return tls_ && SSL_session_reused(tls_->ssl); }

std::string get(std::string_view target, std::string_view extra_headers) {
  std::string r = "GET ";
  r += target;
  r += " HTTP/1.1\r\nHost: test\r\n";
  r += extra_headers;
  r += "\r\n";
  return r;
}

}  // namespace satlink::test
