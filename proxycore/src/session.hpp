// A client connection and the exchange of one request with a server.
#pragma once

#include <string>

#include "http_head.hpp"
#include "worker.hpp"

namespace satlink::proxycore::detail {

struct ClientConn {
  explicit ClientConn(Worker& worker) : w(worker) {}
  Worker& w;
  std::shared_ptr<Stream> stream;
  beast::flat_buffer buffer;
  std::uint64_t id = 0;
  std::string ip;
  std::string addr;  // ip:port, for the access log
  std::uint32_t served = 0;
  ServerRuntime* last_server = nullptr;
  bool idle = false;  // waiting for the next request with nothing received
  ServerConn* current_server = nullptr;  // during an exchange (closed on a forced stop)
  bool tls_done = false;
};

// Completion handler for co_spawn: an exception that ends a coroutine is reported on stderr
// (expected errors are values; this is for the unexpected).
void report_crash(std::exception_ptr e);

// Takes over an accepted connection and serves it until it closes.
void start_client_session(Worker& w, tcp::socket socket);

// Forwards one parsed request and relays its response. Returns what becomes of the client
// connection. Fills the access record.
asio::awaitable<ConnFate> exchange(ClientConn& c, RequestParser& req, const RequestFacts& facts,
                                   ConnFate client_fate, AccessRecord& log);

// Writes a complete error response (if the client can still take one) and records it.
asio::awaitable<void> send_error(ClientConn& c, ErrorKind kind, std::uint64_t request,
                                 AccessRecord& log);

}  // namespace satlink::proxycore::detail
