// The replay client's per-connection exchange: TCP connect and TLS handshake, writing the
// requests assigned to the connection (pipelined), reading their responses in order, and the
// idle hold after the page load. Split from replay.cpp, which keeps the page-load scheduler
// (which request goes on which connection); the state both share is in replay_state.hpp.
#include <array>
#include <boost/asio/steady_timer.hpp>
#include <exception>
#include <string>

#include "replay_connection.hpp"
#include "replay_state.hpp"

namespace satlink::simulator::replay_detail {

namespace {

asio::awaitable<bool> handshake(ReplayState& core, User& u, Conn& c, std::uint64_t request,
                                error_code& ec) {
  SSL* ssl = c.stream.tls()->native_handle();
  if (!core.sni.empty()) SSL_set_tlsext_host_name(ssl, core.sni.c_str());
  if (core.options.tls_resume) {
    SSL_set_ex_data(ssl, session_slot_index(), &u.session);
    if (u.session.get()) SSL_set_session(ssl, u.session.get());
  }
  core.emit(ClientEvent::tls_start, c.id, request);
  auto [hec] =
      co_await c.stream.tls()->async_handshake(asio::ssl::stream_base::client, use_nothrow);
  ec = hec;
  const std::int64_t outcome = ec ? -1 : (SSL_session_reused(ssl) ? 1 : 0);
  core.emit(ClientEvent::tls_end, c.id, request, outcome, ec ? 0 : SSL_version(ssl));
  co_return !ec;
}

// TCP connect, then the TLS handshake: connect_end comes after both, so connect_end −
// connect_start is HAR's `connect` (which includes `ssl`).
asio::awaitable<bool> open(ReplayState& core, User& u, Conn& c) {
  const std::uint64_t request = c.inflight.front()->id;
  core.emit(ClientEvent::connect_start, c.id, request, u.index);
  error_code ec = asio::error::operation_aborted;
  if (!u.aborting()) {  // cancelled before the coroutine ran: no connection for nothing
    auto [cec] = co_await c.stream.socket().async_connect(core.endpoint, use_nothrow);
    ec = cec;
  }
  ClientError err = ClientError::connect_failed;
  std::int64_t local_port = 0;  // joins the client link's accept (its b) in the log
  if (!ec && !u.aborting()) {
    error_code ignored;
    c.stream.socket().set_option(tcp::no_delay(true), ignored);  // requests leave at once
    const auto local = c.stream.socket().local_endpoint(ignored);
    if (!ignored) local_port = local.port();
    err = ClientError::tls_failed;
    if (c.stream.tls()) co_await handshake(core, u, c, request, ec);
  }
  if (!ec && u.aborting()) ec = asio::error::operation_aborted;
  core.emit(ClientEvent::connect_end, c.id, request, ec ? (ec.value() != 0 ? ec.value() : -1) : 0,
            local_port);
  if (ec) {
    u.abandon(c, err, true, false, ec.message());
    co_return false;
  }
  c.connected = true;
  u.dispatch();  // with pipelining, the new connection may take more requests now
  co_return true;
}

asio::awaitable<bool> write_request(ReplayState& core, Conn& c, Request& r) {
  const std::string text = request_text(core.options, r.target);
  core.emit(ClientEvent::request_start, c.id, r.id, c.sent > 0 ? 1 : 0);
  ++c.sent;
  const error_code ec = co_await c.stream.write(text);
  if (ec) co_return false;
  core.emit(ClientEvent::request_sent, c.id, r.id);
  co_return true;
}

// After the load, a kept connection stays open (idle at the server) until the server closes
// it, the hold passes, or the replay is cancelled. Bytes from the server end it too.
asio::awaitable<void> hold_idle(User& u, Conn& c) {
  c.wake.expires_at(u.hold_until);
  c.wake.async_wait([conn = &c](error_code ec) {
    if (!ec) conn->stream.close();  // when not cancelled, the coroutine below is still reading
  });
  std::array<char, 4096> sink;
  co_await c.stream.read_some(asio::buffer(sink));
  c.wake.cancel();
}

// The connection's life after it is open: write what was assigned, read responses in order,
// wait idle for more, until the server or the user ends it.
asio::awaitable<void> serve(ReplayState& core, User& u, Conn& c) {
  for (;;) {
    if (u.aborting()) {
      u.abandon(c, u.abort_reason, true, false);
      co_return;
    }
    while (c.written < c.inflight.size()) {
      const bool ok = co_await write_request(core, c, *c.inflight[c.written]);
      if (!ok) {
        u.abandon(c, ClientError::io_error, c.answered == 0, true, "write failed");
        co_return;
      }
      ++c.written;
    }
    if (c.inflight.empty()) {
      if (u.ended && c.reusable && core.options.idle_hold_ms > 0) co_await hold_idle(u, c);
      if (!c.reusable || u.ended) co_return;
      c.parked = true;
      c.wake.expires_at(asio::steady_timer::time_point::max());
      co_await c.wake.async_wait(use_nothrow);  // dispatch() or the user's end cancels it
      c.parked = false;
      continue;
    }
    Request& r = *c.inflight.front();
    std::string html;
    const Response resp =
        co_await read_response(c.stream, c.buffer, c.last_read_ns, r.index == 0 ? &html : nullptr,
                               [&core, &c, &r](std::int64_t t) {
                                 core.emit(ClientEvent::response_start, c.id, r.id, 0, 0, 0, t);
                               });
    if (resp.error != ClientError::none) {
      // A reused connection closed before answering: the keep-alive race; send again.
      const bool race = !resp.got_bytes && c.answered > 0 && resp.error == ClientError::io_error;
      u.abandon(c, resp.error, !race, true, resp.ec.message());
      co_return;
    }
    c.inflight.pop_front();
    --c.written;
    ++c.answered;
    // Bytes nobody asked for: the connection's framing cannot be trusted any more.
    // (Our own Connection: close holds even if the server ignores it.)
    c.reusable =
        core.options.keep_alive && resp.keep && !(c.inflight.empty() && c.buffer.size() > 0);
    u.complete(r, c, resp, html);
    if (!c.reusable) {
      u.abandon(c, ClientError::none, false, false);  // what was pipelined behind goes again
      co_return;
    }
    u.dispatch();
  }
}

}  // namespace

asio::awaitable<void> run_connection(std::shared_ptr<User> user, std::shared_ptr<Conn> conn) {
  User& u = *user;
  Conn& c = *conn;
  try {
    const bool up = co_await open(u.core, u, c);
    if (up) co_await serve(u.core, u, c);
  } catch (const std::exception& e) {
    u.abandon(c, ClientError::io_error, true, false, e.what());
  }
  u.conn_ended(c);
}

}  // namespace satlink::simulator::replay_detail
