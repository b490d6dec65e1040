// Types only: the measurement hooks. Every milestone of a connection or request is one Event.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace satlink::proxycore {

enum class Side : std::uint8_t { client, server };

enum class EventKind : std::uint8_t {
  client_accept,         // conn = client connection id
  client_close,          // value = requests served on the connection
  tls_handshake_start,   // side says which connection
  tls_handshake_end,     // value = 1 if the session was resumed, 0 if full, -1 if it failed
  request_head_start,    // first byte of a request head received
  request_head_end,      // request head complete
  request_body_end,      // value = body bytes received from the client
  queue_enter,           // all servers at maxconn: the request waits
  queue_leave,           // value = 1 if it got a slot, 0 if it timed out or the queue was full
  server_connect_start,  // conn = server connection id; request = the request that needs it
  server_connect_end,    // value = 0 on success, else an ErrorKind
  server_reuse,          // conn = the idle server connection taken for the request
  server_idle,           // conn returned to the idle pool; value = idle connections now
  server_close,          // value = requests served on the connection
  request_sent,          // request head written to the server
  response_head_start,   // first byte of the response head from the server
  response_head_end,     // value = status
  response_head_sent,    // response head written to the client
  response_end,          // value = body bytes sent to the client
  retry,                 // request resent on a fresh connection after a reused one failed
  tunnel_start,          // 101 forwarded; bytes now relayed raw
  error,                 // value = ErrorKind
};

enum class ErrorKind : std::uint8_t {
  none,
  bad_request,        // 400
  request_timeout,    // 408
  body_too_large,     // 413
  head_too_large,     // 431
  bad_gateway,        // 502: origin refused, reset, or sent garbage
  no_server,          // 503: no server reachable, queue full or queue timeout
  gateway_timeout,    // 504
  client_aborted,     // client went away mid-exchange
  not_implemented,    // 501
};

struct Event {
  std::int64_t t_ns = 0;  // steady clock, nanoseconds
  EventKind kind{};
  Side side{};
  std::uint64_t conn = 0;     // connection id on `side` (ids are unique per proxy across sides)
  std::uint64_t request = 0;  // request id, 0 when the event is not about a request
  std::int64_t value = 0;     // meaning depends on kind (see above)
};

// HAProxy-style per-request timers in ms; -1 when the phase never happened.
struct AccessRecord {
  std::uint64_t request = 0;
  std::uint64_t client_conn = 0;
  std::uint64_t server_conn = 0;  // 0 if none
  std::string client_addr;
  std::string backend;
  std::string server;
  std::string method;
  std::string target;
  int status = 0;           // sent to the client; 0 if nothing was sent
  std::int64_t t_request = -1;   // Tq: time to receive the request head
  std::int64_t t_queue = -1;     // Tw: time waiting in the queue
  std::int64_t t_connect = -1;   // Tc: server connect (+TLS); 0 when the connection was reused
  std::int64_t t_response = -1;  // Tr: request sent -> response head received
  std::int64_t t_total = -1;     // Ta: request head start -> last byte sent
  std::uint64_t bytes_in = 0;    // request body bytes from the client
  std::uint64_t bytes_out = 0;   // response body bytes to the client
  bool server_conn_reused = false;
  bool retried = false;
  ErrorKind error = ErrorKind::none;
};

// Receives events and access records from the proxy's worker threads. When threads > 1 the
// implementation must be thread-safe. A proxy without a sink pays one branch per milestone.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_event(const Event&) noexcept {}
  virtual void on_access(const AccessRecord&) noexcept {}
};

std::string_view to_string(EventKind k);
std::string_view to_string(ErrorKind k);
int http_status(ErrorKind k);  // 0 for kinds without a status
// One line in HAProxy's spirit: addr backend/server Tq/Tw/Tc/Tr/Ta status bytes new|reused "method target"
std::string format_access_line(const AccessRecord& r);

}  // namespace satlink::proxycore
