// The client side: TLS termination, reading request heads, deciding the connection's fate,
// and the error responses. The exchange with the server is in exchange.cpp.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <cstdio>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "session.hpp"

namespace satlink::proxycore::detail {

namespace {
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

std::int64_t ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

void count_error(Worker& w, ErrorKind kind) {
  switch (kind) {
    case ErrorKind::bad_request: w.bump(&Counters::err_400); break;
    case ErrorKind::request_timeout: w.bump(&Counters::err_408); break;
    case ErrorKind::body_too_large: w.bump(&Counters::err_413); break;
    case ErrorKind::head_too_large: w.bump(&Counters::err_431); break;
    case ErrorKind::not_implemented: w.bump(&Counters::err_501); break;
    case ErrorKind::bad_gateway: w.bump(&Counters::err_502); break;
    case ErrorKind::no_server: w.bump(&Counters::err_503); break;
    case ErrorKind::gateway_timeout: w.bump(&Counters::err_504); break;
    case ErrorKind::client_aborted: w.bump(&Counters::client_aborts); break;
    case ErrorKind::none: break;
  }
}

asio::awaitable<bool> tls_handshake(ClientConn& c) {
  auto& w = c.w;
  w.emit(EventKind::tls_handshake_start, Side::client, c.id, 0);
  c.stream->arm(w.config().timeouts.http_request);
  auto [ec] = co_await c.stream->tls().async_handshake(asio::ssl::stream_base::server,
                                                        use_nothrow);
  c.stream->disarm();
  const bool resumed = !ec && SSL_session_reused(c.stream->tls().native_handle());
  w.emit(EventKind::tls_handshake_end, Side::client, c.id, 0, ec ? -1 : resumed);
  if (ec) co_return false;
  w.bump(&Counters::client_tls_handshakes);
  if (resumed) w.bump(&Counters::client_tls_resumed);
  co_return true;
}

// Lingering close after an error response: closing a socket with unread input makes the kernel
// send a reset, and the client may lose the response it has not read yet. So, when input is
// left: half-close, then drain (bounded in bytes and time) until the client closes too.
asio::awaitable<void> linger(ClientConn& c) {
  if (c.stream->is_tls()) co_return;
  error_code ec;
  auto& socket = c.stream->socket();
  if (c.buffer.size() == 0 && socket.available(ec) == 0) co_return;  // nothing to reset over
  c.buffer.clear();
  socket.shutdown(tcp::socket::shutdown_send, ec);
  c.stream->arm(std::chrono::milliseconds(1000));
  char sink[4096];
  for (std::size_t total = 0; total < 256 * 1024;) {
    auto [rec, n] = co_await socket.async_read_some(asio::buffer(sink), use_nothrow);
    if (rec) break;
    total += n;
  }
  c.stream->disarm();
}

void log_access(Worker& w, const AccessRecord& log) {
  if (w.shared.sink) w.shared.sink->on_access(log);
}

// Reads and checks one request head, then hands it to exchange(). Returns whether the
// connection serves another request.
asio::awaitable<bool> serve_one(ClientConn& c) {
  auto& w = c.w;
  const auto& cfg = w.config();
  c.idle = c.buffer.size() == 0;  // a TLS connection waits for its next request in read_head
  const auto idle_timeout =
      c.served == 0 ? cfg.timeouts.http_request : cfg.timeouts.http_keep_alive;
  const HeadRead head = co_await read_head(*c.stream, c.buffer, cfg.client.max_header_bytes,
                                           idle_timeout, cfg.timeouts.http_request,
                                           kRequestReadSize);
  c.idle = false;
  if (head.status == HeadStatus::closed || head.status == HeadStatus::idle_timeout ||
      head.status == HeadStatus::io_error || (w.stopping && head.status != HeadStatus::ok))
    co_return false;  // nothing of a request arrived: close quietly, as HAProxy does

  AccessRecord log;
  log.request = w.next_id();
  log.client_conn = c.id;
  log.client_addr = c.addr;
  w.emit_at(head.first_byte, EventKind::request_head_start, Side::client, c.id, log.request);
  w.bump(&Counters::requests);

  ErrorKind err = ErrorKind::none;
  if (head.status == HeadStatus::timeout) err = ErrorKind::request_timeout;
  if (head.status == HeadStatus::too_large) err = ErrorKind::head_too_large;
  if (head.status == HeadStatus::malformed) err = ErrorKind::bad_request;
  RequestParser parser;
  if (err == ErrorKind::none) {
    const std::string_view bytes(static_cast<const char*>(c.buffer.data().data()), head.size);
    w.bump(&Counters::bytes_from_clients, static_cast<std::int64_t>(head.size));
    parser.header_limit(static_cast<std::uint32_t>(cfg.client.max_header_bytes + 4));
    parser.body_limit(boost::none);  // the limit is ours: 413 from the head or the relay
    beast::error_code ec;
    if (!head_bytes_are_strict(bytes)) {
      err = ErrorKind::bad_request;
    } else {
      parser.put(asio::buffer(bytes), ec);
      if (ec && ec != http::error::need_buffer) err = ErrorKind::bad_request;
    }
    c.buffer.consume(head.size);
  }
  if (err == ErrorKind::none) err = validate_request(parser);
  if (err == ErrorKind::none && cfg.client.max_body_bytes != 0 && parser.content_length() &&
      *parser.content_length() > cfg.client.max_body_bytes)
    err = ErrorKind::body_too_large;
  log.t_request = ms_between(head.first_byte, Clock::now());
  if (err != ErrorKind::none) {
    co_await send_error(c, err, log.request, log);
    log.t_total = ms_between(head.first_byte, Clock::now());
    log_access(w, log);
    co_return false;
  }
  w.emit(EventKind::request_head_end, Side::client, c.id, log.request);
  log.method = parser.get().method_string();
  log.target = parser.get().target();

  RequestFacts facts = request_facts(parser);
  ++c.served;
  facts.last_allowed = cfg.client.max_requests != 0 && c.served >= cfg.client.max_requests;
  ConnFate fate = client_fate_on_request(cfg.client.keep_alive, facts);
  if (w.stopping && fate == ConnFate::keep_alive) fate = ConnFate::close;
  fate = co_await exchange(c, parser, facts, fate, log);
  log.t_total = ms_between(head.first_byte, Clock::now());
  log_access(w, log);
  co_return fate == ConnFate::keep_alive && !w.stopping;
}
}  // namespace

asio::awaitable<void> send_error(ClientConn& c, ErrorKind kind, std::uint64_t request,
                                 AccessRecord& log) {
  auto& w = c.w;
  count_error(w, kind);
  log.error = kind;
  w.emit(EventKind::error, Side::client, c.id, request, static_cast<std::int64_t>(kind));
  const int status = http_status(kind);
  if (status == 0 || !c.stream->is_open()) co_return;
  const std::string text = error_response(status);
  c.stream->arm(w.config().timeouts.client);
  auto [ec, n] = co_await asio::async_write(*c.stream, asio::buffer(text), use_nothrow);
  c.stream->disarm();
  w.bump(&Counters::bytes_to_clients, static_cast<std::int64_t>(n));
  w.bump(&Counters::responses);
  log.status = status;
  w.emit(EventKind::response_head_sent, Side::client, c.id, request, status);
  w.emit(EventKind::response_end, Side::client, c.id, request, 0);
  if (!ec) co_await linger(c);
}

void report_crash(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "satlink-proxy: a coroutine ended by an exception: %s\n", ex.what());
  }
}

namespace {

void finish(const std::shared_ptr<ClientConn>& c) {
  auto& w = c->w;
  // With `http-reuse never`, this client's server connections die with it.
  if (w.config().server.reuse == ReusePolicy::never)
    for (auto& b : w.backends)
      for (auto& s : b->servers)
        std::erase_if(s->idle, [&](const std::shared_ptr<ServerConn>& sc) {
          if (sc->owner != c->id) return false;
          sc->in_pool = false;
          w.bump(&Counters::server_conns_idle, -1);
          close_server_conn(w, *sc, false);  // its idle watcher's read is pending
          return true;
        });
  c->stream->close_gracefully();
  w.sessions.erase(c->id);
  w.bump(&Counters::client_conns_open, -1);
  w.emit(EventKind::client_close, Side::client, c->id, 0, c->served);
  if (w.stopping && w.sessions.empty() && w.on_drained) w.on_drained();
}

void spawn_serve(std::shared_ptr<ClientConn> c);

// Between requests a plain connection is parked: no coroutine, no buffer, just a pending
// readiness wait and the deadline. An idle keep-alive connection then costs its socket, this
// small state and two pending operations (bench/: bytes per idle connection); a coroutine
// comes back when the next request's first byte arrives.
void park(std::shared_ptr<ClientConn> c) {
  const auto& t = c->w.config().timeouts;
  c->buffer.shrink_to_fit();
  c->idle = true;
  c->stream->arm(c->served == 0 ? t.http_request : t.http_keep_alive);
  auto& socket = c->stream->socket();
  socket.async_wait(tcp::socket::wait_read, [c = std::move(c)](error_code ec) mutable {
    c->idle = false;
    if (ec || c->w.stopping)
      finish(c);  // a timeout or a stop closes the connection quietly
    else
      spawn_serve(std::move(c));
  });
}

// Serves requests while they come back to back. Returns true when the connection went idle
// (to be parked), false when it is done. A TLS stream may hold decrypted bytes the socket
// cannot show, so it is never parked. The caller's completion handler owns the connection.
asio::awaitable<bool> serve(ClientConn* c) {
  bool ok = true;
  if (c->stream->is_tls() && !c->tls_done) {
    ok = co_await tls_handshake(*c);
    c->tls_done = ok;
  }
  // Called when a request's first bytes are here (or, for TLS, may be).
  while (ok && !c->w.stopping) {
    ok = co_await serve_one(*c);
    if (ok && c->buffer.size() == 0 && !c->stream->is_tls()) co_return true;
  }
  co_return false;
}

void spawn_serve(std::shared_ptr<ClientConn> c) {
  ClientConn* raw = c.get();
  asio::co_spawn(raw->w.ioc, serve(raw),
                 [c = std::move(c)](std::exception_ptr e, bool go_idle) mutable {
                   report_crash(e);
                   if (!e && go_idle)
                     park(std::move(c));
                   else
                     finish(c);
                 });
}
}  // namespace

void start_client_session(Worker& w, tcp::socket socket) {
  auto c = std::make_shared<ClientConn>(w);
  c->id = w.next_id();
  error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  socket.set_option(tcp::no_delay(true), ec);
  c->ip = remote.address().to_string();
  c->addr = c->ip + ":" + std::to_string(remote.port());
  c->stream = Stream::make(std::move(socket), w.shared.client_tls.get());
  // Bounded: whatever the peer sends (a chunk extension without end, say), we never hold more.
  c->buffer.max_size(w.config().client.max_header_bytes + kBodyReadRoom);
  w.sessions.emplace(c->id, c.get());
  w.bump(&Counters::client_conns_accepted);
  w.bump(&Counters::client_conns_open);
  w.emit(EventKind::client_accept, Side::client, c->id, 0);
  if (c->stream->is_tls())
    spawn_serve(std::move(c));
  else
    park(std::move(c));
}

void Worker::begin_stop() {
  stopping = true;
  close_idle_pool(*this);
  for (auto& [id, c] : sessions)
    if (c->idle) c->stream->close();
}

void Worker::force_stop() {
  stopping = true;
  close_idle_pool(*this);
  for (auto& [id, c] : sessions) {
    c->stream->close();
    if (c->current_server) c->current_server->stream->close();
  }
}

}  // namespace satlink::proxycore::detail
