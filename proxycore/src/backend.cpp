// Server selection, the maxconn queue, the idle pool and connection set-up (TCP + TLS).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>

#include "worker.hpp"

namespace satlink::proxycore::detail {

namespace {
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

std::int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

bool has_slot(const ServerRuntime& s) {
  return s.config->maxconn == 0 || s.active < s.config->maxconn;
}

ServerRuntime* pick_server(BackendRuntime& b, ServerRuntime* preferred, std::uint64_t client) {
  // prefer-last-server: a client's own idle connection beats balancing.
  if (preferred && preferred->backend == &b && has_slot(*preferred)) {
    for (const auto& c : preferred->idle)
      if (c->owner == client) return preferred;
  }
  ServerRuntime* best = nullptr;
  const auto n = b.servers.size();
  for (std::size_t i = 0; i < n; ++i) {
    auto* s = b.servers[(b.rr_next + i) % n].get();
    if (!has_slot(*s)) continue;
    if (b.config->balance == Balance::roundrobin) {
      b.rr_next = (b.rr_next + i + 1) % n;
      return s;
    }
    if (!best || s->active < best->active) best = s;
  }
  if (best) b.rr_next = (b.rr_next + 1) % n;
  return best;
}

std::shared_ptr<ServerConn> take_idle(Worker& w, ServerRuntime& s, const AcquireContext& ctx) {
  if (ctx.force_new) return nullptr;
  const auto policy = w.config().server.reuse;
  const bool may_share = policy == ReusePolicy::always ||
                         (policy == ReusePolicy::safe && !ctx.first_request);
  // Most recently used first: its TCP window is the warmest.
  for (auto it = s.idle.rbegin(); it != s.idle.rend(); ++it) {
    if ((*it)->owner != ctx.client_conn && !may_share) continue;
    auto conn = *it;
    s.idle.erase(std::next(it).base());
    conn->in_pool = false;
    error_code ignored;
    conn->stream->socket().cancel(ignored);  // ends the idle watcher's wait
    conn->stream->disarm();
    w.bump(&Counters::server_conns_idle, -1);
    return conn;
  }
  return nullptr;
}

}  // namespace

void close_server_conn(Worker& w, ServerConn& c, bool graceful) {
  if (c.closed) return;  // counted once, whoever closed the stream first
  c.closed = true;
  if (graceful)
    c.stream->close_gracefully();
  else
    c.stream->close();
  w.bump(&Counters::server_conns_open, -1);
  w.emit(EventKind::server_close, Side::server, c.id, 0, c.requests);
}

namespace {

void leave_pool_and_close(Worker& w, const std::shared_ptr<ServerConn>& c, std::uint32_t gen) {
  if (!c->in_pool || c->idle_gen != gen) return;  // taken for a request meanwhile
  auto& idle = c->server->idle;
  idle.erase(std::find(idle.begin(), idle.end(), c));
  c->in_pool = false;
  w.bump(&Counters::server_conns_idle, -1);
  close_server_conn(w, *c);
}

// Watches an idle pooled connection: the origin closing it, stray bytes, or the pool timeout
// (the stream's deadline, which cancels the wait) take it out of the pool. A plain connection
// needs only a readiness wait; a TLS one reads, so that a late session ticket is consumed
// instead of taken for the origin's close.
void watch_idle(Worker& w, std::shared_ptr<ServerConn> c, std::uint32_t gen) {
  c->stream->arm(w.config().timeouts.pool_idle);
  if (!c->stream->is_tls()) {
    auto& socket = c->stream->socket();
    socket.async_wait(tcp::socket::wait_read,
                      [&w, c = std::move(c), gen](error_code) { leave_pool_and_close(w, c, gen); });
    return;
  }
  auto watch = [](Worker& wk, std::shared_ptr<ServerConn> conn,
                  std::uint32_t g) -> asio::awaitable<void> {
    char byte;
    co_await conn->stream->async_read_some(asio::buffer(&byte, 1), use_nothrow);
    leave_pool_and_close(wk, conn, g);
  };
  asio::co_spawn(w.ioc, watch(w, std::move(c), gen), asio::detached);
}

asio::awaitable<std::shared_ptr<ServerConn>> connect(Worker& w, ServerRuntime& s,
                                                     const AcquireContext& ctx, ErrorKind& err) {
  const auto id = w.next_id();
  w.emit(EventKind::server_connect_start, Side::server, id, ctx.request);
  auto stream = Stream::make(tcp::socket(w.ioc), s.backend->tls);
  stream->arm(w.config().timeouts.connect);
  auto [ec, ep] = co_await asio::async_connect(stream->socket(), *s.endpoints, use_nothrow);
  if (!ec) {
    error_code ignored;
    stream->socket().set_option(tcp::no_delay(true), ignored);
  }
  if (!ec && stream->is_tls()) {
    const auto& tls = s.backend->config->tls;
    prepare_server_handshake(stream->tls().native_handle(), tls, s.config->host, &s.tls_session);
    w.emit(EventKind::tls_handshake_start, Side::server, id, ctx.request);
    auto [hec] = co_await stream->tls().async_handshake(asio::ssl::stream_base::client,
                                                         use_nothrow);
    const bool resumed = !hec && SSL_session_reused(stream->tls().native_handle());
    w.emit(EventKind::tls_handshake_end, Side::server, id, ctx.request, hec ? -1 : resumed);
    if (!hec) {
      w.bump(&Counters::server_tls_handshakes);
      if (resumed) w.bump(&Counters::server_tls_resumed);
    }
    ec = hec;
  }
  stream->disarm();
  if (ec) {
    err = stream->timed_out() ? ErrorKind::gateway_timeout : ErrorKind::no_server;
    w.emit(EventKind::server_connect_end, Side::server, id, ctx.request,
           static_cast<std::int64_t>(err));
    stream->close();
    co_return nullptr;
  }
  w.emit(EventKind::server_connect_end, Side::server, id, ctx.request, 0);
  w.bump(&Counters::server_conns_opened);
  w.bump(&Counters::server_conns_open);
  auto conn = std::make_shared<ServerConn>(id, std::move(stream), &s);
  conn->limit_buffer(w.config().server.max_header_bytes);
  co_return conn;
}

void hand_over_slot(BackendRuntime& b, ServerRuntime& s) {
  // The slot passes straight to the first waiter, so no newcomer can overtake the queue.
  if (!b.queue.empty()) {
    auto* waiter = b.queue.front();
    b.queue.pop_front();
    waiter->granted = &s;
    waiter->timer.cancel();
    return;
  }
  --s.active;
}
}  // namespace

Worker::Worker(asio::io_context& io, Shared& sh) : ioc(io), shared(sh) {
  const auto& cfg = shared.config;
  for (std::size_t bi = 0; bi < cfg.backends.size(); ++bi) {
    auto b = std::make_unique<BackendRuntime>();
    b->config = &cfg.backends[bi];
    b->tls = shared.backend_tls[bi].get();
    for (std::size_t si = 0; si < b->config->servers.size(); ++si) {
      auto s = std::make_unique<ServerRuntime>();
      s->config = &b->config->servers[si];
      s->backend = b.get();
      s->endpoints = &shared.server_endpoints[bi][si];
      b->servers.push_back(std::move(s));
    }
    backends.push_back(std::move(b));
  }
}

Worker::~Worker() = default;

Counters Worker::snapshot() const {
  Counters out;
  for (const auto& d : counter_descriptors()) {
    auto& field = const_cast<std::uint64_t&>(counters.*d.field);
    out.*d.field = std::atomic_ref<std::uint64_t>(field).load(std::memory_order_relaxed);
  }
  return out;
}

BackendRuntime& Worker::route(std::string_view host, std::string_view target) {
  const auto& cfg = config();
  if (const auto colon = host.rfind(':');
      colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos)
    host = host.substr(0, colon);
  for (const auto& r : cfg.routes) {
    if (!r.host.empty() && !beast::iequals(r.host, host)) continue;
    if (!r.path_prefix.empty() && !target.starts_with(r.path_prefix)) continue;
    for (auto& b : backends)
      if (b->config->name == r.backend) return *b;
  }
  if (!cfg.default_backend.empty())
    for (auto& b : backends)
      if (b->config->name == cfg.default_backend) return *b;
  return *backends.front();
}

asio::awaitable<Lease> acquire(Worker& w, BackendRuntime& b, AcquireContext ctx) {
  Lease lease;
  const auto start = Clock::now();
  ServerRuntime* server = pick_server(b, ctx.last_server, ctx.client_conn);
  if (!server) {
    if (b.queue.size() >= b.config->queue_limit) {
      lease.error = ErrorKind::no_server;
      co_return lease;
    }
    w.bump(&Counters::queued);
    w.emit(EventKind::queue_enter, Side::server, 0, ctx.request);
    QueueWaiter waiter(w.ioc.get_executor());
    b.queue.push_back(&waiter);
    waiter.timer.expires_after(w.config().timeouts.queue);
    co_await waiter.timer.async_wait(use_nothrow);
    if (!waiter.granted) std::erase(b.queue, &waiter);
    w.emit(EventKind::queue_leave, Side::server, 0, ctx.request, waiter.granted != nullptr);
    lease.t_queue_ms = ms_since(start);
    if (!waiter.granted) {
      lease.error = ErrorKind::no_server;
      co_return lease;
    }
    server = waiter.granted;  // the slot is already counted in active
  } else {
    ++server->active;
    lease.t_queue_ms = 0;
  }
  lease.server = server;
  if (auto idle = take_idle(w, *server, ctx)) {
    lease.conn = std::move(idle);
    lease.reused = true;
    lease.t_connect_ms = 0;
    w.bump(&Counters::server_conns_reused);
    w.emit(EventKind::server_reuse, Side::server, lease.conn->id, ctx.request);
    co_return lease;
  }
  // Connect, redispatching to the next server on failure (HAProxy's retries + redispatch).
  const auto connect_start = Clock::now();
  ErrorKind err = ErrorKind::no_server;
  for (std::uint32_t attempt = 0; attempt <= w.config().server.retries; ++attempt) {
    lease.conn = co_await connect(w, *lease.server, ctx, err);
    if (lease.conn || w.stopping) break;
    ServerRuntime* next = pick_server(b, nullptr, ctx.client_conn);
    if (next && next != lease.server) {
      hand_over_slot(b, *lease.server);
      ++next->active;
      lease.server = next;
    }
  }
  lease.t_connect_ms = ms_since(connect_start);
  if (!lease.conn) {
    lease.error = err == ErrorKind::gateway_timeout ? ErrorKind::no_server : err;
    hand_over_slot(b, *lease.server);
    lease.server = nullptr;
  }
  co_return lease;
}

void release(Worker& w, Lease& lease, bool keep) {
  if (!lease.server) return;
  auto& server = *lease.server;
  hand_over_slot(*server.backend, server);
  lease.server = nullptr;
  auto conn = std::move(lease.conn);
  if (!conn) return;
  const bool room = server.idle.size() < w.config().server.max_idle_per_server;
  if (!keep || !room || w.stopping || !conn->stream->is_open() || conn->buffer.size() != 0) {
    close_server_conn(w, *conn);
    return;
  }
  conn->buffer.shrink_to_fit();  // empty: an idle connection holds no buffer
  conn->in_pool = true;
  const auto gen = ++conn->idle_gen;
  server.idle.push_back(conn);
  w.bump(&Counters::server_conns_idle);
  w.emit(EventKind::server_idle, Side::server, conn->id, 0,
         static_cast<std::int64_t>(server.idle.size()));
  watch_idle(w, std::move(conn), gen);
}

// Closes every pooled connection (stop).
void close_idle_pool(Worker& w) {
  for (auto& b : w.backends)
    for (auto& s : b->servers) {
      while (!s->idle.empty()) {
        auto c = s->idle.back();
        s->idle.pop_back();
        c->in_pool = false;
        w.bump(&Counters::server_conns_idle, -1);
        close_server_conn(w, *c, false);  // its idle watcher's read is pending
      }
      for (auto* waiter : b->queue) waiter->timer.cancel();
      b->queue.clear();
    }
}

}  // namespace satlink::proxycore::detail
