// What one worker thread owns: its io_context, counters, server pools and client sessions.
// Workers share nothing mutable but the id counter and the (read-only) configuration.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "satlink/proxycore/config.hpp"
#include "satlink/proxycore/counters.hpp"
#include "satlink/proxycore/events.hpp"
#include "stream.hpp"
#include "tls.hpp"

namespace satlink::proxycore::detail {

namespace beast = boost::beast;

// Room in a connection's read buffer beyond its head limit: Beast reads bodies 64 KiB at a time.
inline constexpr std::size_t kBodyReadRoom = 65536 + 8192;

struct Shared {
  ProxyConfig config;
  EventSink* sink = nullptr;
  std::atomic<std::uint64_t> next_id{1};
  std::unique_ptr<asio::ssl::context> client_tls;                // null when client TLS is off
  std::vector<std::unique_ptr<asio::ssl::context>> backend_tls;  // per backend, null when off
  std::vector<std::vector<std::vector<tcp::endpoint>>> server_endpoints;  // [backend][server]
};

struct ServerRuntime;

struct ServerConn {
  ServerConn(std::uint64_t id_, std::shared_ptr<Stream> s, ServerRuntime* srv)
      : id(id_), stream(std::move(s)), server(srv) {}
  void limit_buffer(std::size_t max_header) { buffer.max_size(max_header + kBodyReadRoom); }
  std::uint64_t id;
  std::shared_ptr<Stream> stream;
  beast::flat_buffer buffer;
  ServerRuntime* server;
  std::uint64_t owner = 0;     // client connection that last used it
  std::uint32_t requests = 0;  // requests sent on it
  bool in_pool = false;
  bool closed = false;  // counted out (gauge, server_close event)
  std::uint32_t idle_gen = 0;  // which stay in the pool an idle watcher belongs to
};

struct QueueWaiter {
  explicit QueueWaiter(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  ServerRuntime* granted = nullptr;  // the server whose slot was handed over
};

struct BackendRuntime;

struct ServerRuntime {
  const ServerConfig* config;
  BackendRuntime* backend;
  const std::vector<tcp::endpoint>* endpoints;
  std::uint32_t active = 0;  // requests using a connection now (maxconn, leastconn)
  std::deque<std::shared_ptr<ServerConn>> idle;
  TlsSessionSlot tls_session;
};

struct BackendRuntime {
  const BackendConfig* config;
  asio::ssl::context* tls = nullptr;
  std::vector<std::unique_ptr<ServerRuntime>> servers;
  std::size_t rr_next = 0;
  std::deque<QueueWaiter*> queue;
};

struct ClientConn;

class Worker {
 public:
  Worker(asio::io_context& ioc, Shared& shared);
  ~Worker();

  asio::io_context& ioc;
  Shared& shared;
  const ProxyConfig& config() const { return shared.config; }
  Counters counters;  // written by this worker only, through bump(); read with snapshot()
  std::vector<std::unique_ptr<BackendRuntime>> backends;
  std::unordered_map<std::uint64_t, ClientConn*> sessions;
  bool stopping = false;
  std::function<void()> on_drained;  // called when the last session ends during a stop

  std::uint64_t next_id() { return shared.next_id.fetch_add(1, std::memory_order_relaxed); }
  void bump(std::uint64_t Counters::*field, std::int64_t n = 1) {
    std::atomic_ref<std::uint64_t>(counters.*field).fetch_add(static_cast<std::uint64_t>(n),
                                                              std::memory_order_relaxed);
  }
  Counters snapshot() const;
  void emit(EventKind kind, Side side, std::uint64_t conn, std::uint64_t request,
            std::int64_t value = 0) {
    if (shared.sink)
      shared.sink->on_event(Event{now_ns(), kind, side, conn, request, value});
  }
  void emit_at(Clock::time_point t, EventKind kind, Side side, std::uint64_t conn,
               std::uint64_t request, std::int64_t value = 0) {
    if (shared.sink) shared.sink->on_event(Event{ns(t), kind, side, conn, request, value});
  }
  static std::int64_t ns(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  static std::int64_t now_ns() { return ns(Clock::now()); }

  BackendRuntime& route(std::string_view host, std::string_view target);
  // Graceful stop: idle client connections and pooled server connections close now.
  void begin_stop();
  // End of grace: everything closes.
  void force_stop();
};

// A request's hold on a server connection (and on a maxconn slot of its server).
struct Lease {
  std::shared_ptr<ServerConn> conn;
  ServerRuntime* server = nullptr;
  bool reused = false;
  std::int64_t t_queue_ms = -1;
  std::int64_t t_connect_ms = -1;
  ErrorKind error = ErrorKind::none;
};

struct AcquireContext {
  std::uint64_t client_conn = 0;
  std::uint64_t request = 0;
  bool first_request = true;
  ServerRuntime* last_server = nullptr;
  bool force_new = false;  // a retry: never take an idle connection
};

// Finds a server (balancing, maxconn queue) and a connection to it (own idle one, pooled one
// if the reuse policy allows, else a new one, with redispatch to other servers on failure).
asio::awaitable<Lease> acquire(Worker& w, BackendRuntime& b, AcquireContext ctx);
// Ends the lease: the connection returns to the idle pool when `keep` (and the pool has room),
// else it closes. Hands the server slot to the first queued request, if any.
void release(Worker& w, Lease& lease, bool keep);
// Closes a server connection and counts it out, once. `graceful`: no operation is pending on
// the stream, so TLS can send close_notify.
void close_server_conn(Worker& w, ServerConn& c, bool graceful = true);
// Closes every pooled connection and turns queued requests away (stop).
void close_idle_pool(Worker& w);
}  // namespace satlink::proxycore::detail
