// One connection through the link: a reader per direction that plans each chunk, a writer that
// releases pieces on time, the emulated set-up and the onward connect, and the teardown.
#include "link_relay.hpp"

namespace satlink::simulator {

using namespace link_detail;

Pipe::Pipe(Connection& c, int direction, std::uint64_t seed)
    : conn(c),
      dir(direction),
      flow(seed),
      writer_wake(*c.link->strand),
      reader_wake(*c.link->strand) {}

void Pipe::push(Pending p) {
  in_flight += p.bytes.size();
  queue.push_back(std::move(p));
  if (writer_waiting) writer_wake.cancel();
}

awaitable<void> Pipe::read_loop() {
  LinkState& link = *conn.link;
  std::vector<char> buffer(kReadSize);
  for (;;) {
    const std::uint64_t window = link.snapshot().window_bytes;
    while (in_flight >= window && !done) {  // the receive window is full: stop reading
      reader_waiting = true;
      reader_wake.expires_at(at(kNever));
      co_await reader_wake.async_wait(kUse);
      reader_waiting = false;
    }
    if (done) co_return;
    {  // the shared bottleneck's queue is full: stop reading, as TCP's window would
      const std::int64_t now = now_ns();
      const LinkConfig c = link.snapshot();
      const auto p = direction_params(c, dir == 0, link.since_start_ms(now));
      const std::int64_t admit = link.bottleneck[dir].admit_at(now, p);
      if (admit > now) {
        reader_wake.expires_at(at(admit));
        co_await reader_wake.async_wait(kUse);
      }
    }
    auto [ec, n] = co_await from->async_read_some(asio::buffer(buffer), kUse);
    const std::int64_t t = now_ns();
    const LinkConfig c = link.snapshot();
    const auto params = direction_params(c, dir == 0, link.since_start_ms(t));
    if (ec) {
      if (ec == asio::error::operation_aborted || done) co_return;
      const bool reset = ec != asio::error::eof;
      push({{}, plan_marker(t, params, flow), t, reset ? Marker::reset : Marker::fin});
      co_return;
    }
    Plan plan = plan_chunk(t, n, params, link.bottleneck[dir], flow);
    link.emit(LinkEvent::chunk_in, t, conn.id, dir, static_cast<std::int64_t>(n),
              plan.pieces.back().release_ns, static_cast<std::int64_t>(plan.queued_bytes));
    for (const auto& loss : plan.losses)
      link.emit(LinkEvent::loss, t, conn.id, dir, loss.segments, loss.delay_ns);
    std::size_t offset = 0;
    for (const auto& piece : plan.pieces) {
      const auto* begin = buffer.data() + offset;
      push({std::vector<char>(begin, begin + piece.bytes), piece.release_ns, t, Marker::data});
      offset += piece.bytes;
    }
  }
}

// Returns false when the connection was torn down.
bool Pipe::deliver_marker(const Pending& p) {
  LinkState& link = *conn.link;
  const std::int64_t t = now_ns();
  if (p.marker == Marker::reset) {
    link.emit(LinkEvent::reset, t, conn.id, dir);
    conn.abort();
    return false;
  }
  // Logged before the shutdown: once the peer can see the FIN, the log already has it.
  link.emit(LinkEvent::fin, t, conn.id, dir);
  boost::system::error_code ec;
  to->shutdown(tcp::socket::shutdown_send, ec);
  conn.direction_done(*this);
  return true;
}

awaitable<void> Pipe::write_loop() {
  LinkState& link = *conn.link;
  for (;;) {
    if (queue.empty()) {
      writer_waiting = true;
      writer_wake.expires_at(at(kNever));
      co_await writer_wake.async_wait(kUse);
      writer_waiting = false;
      if (conn.ended) co_return;
      continue;
    }
    const std::int64_t release = queue.front().release_ns;
    if (now_ns() < release) {
      writer_wake.expires_at(at(release));
      co_await writer_wake.async_wait(kUse);
      if (conn.ended) co_return;
      continue;
    }
    Pending p = std::move(queue.front());
    queue.pop_front();
    if (p.marker != Marker::data) {
      deliver_marker(p);
      co_return;
    }
    auto [ec, n] = co_await asio::async_write(*to, asio::buffer(p.bytes), kUse);
    if (conn.ended) co_return;
    if (ec) {  // the receiver is gone: what TCP would do is a reset towards the sender
      link.emit(LinkEvent::reset, now_ns(), conn.id, dir);
      conn.abort();
      co_return;
    }
    link.emit(LinkEvent::chunk_out, now_ns(), conn.id, dir, static_cast<std::int64_t>(n),
              p.release_ns, p.arrival_ns);
    delivered += n;
    in_flight -= n;
    if (reader_waiting) reader_wake.cancel();
  }
}

void Connection::start() {
  const std::int64_t t0 = now_ns();
  const LinkConfig c = link->snapshot();
  const double t_ms = link->since_start_ms(t0);
  up.flow.hold_until_ns = setup_release_ns(t0, c, t_ms);
  boost::system::error_code ec;
  const tcp::endpoint peer = client.remote_endpoint(ec);
  link->emit(LinkEvent::accept, t0, id, 0, 0, ec ? 0 : peer.port());  // b joins the client's log
  link->emit(LinkEvent::setup_start, t0, id, 0);
  link->emit(LinkEvent::setup_end, up.flow.hold_until_ns, id, 0);
  spawn(up.read_loop());
  spawn(connect(target_connect_ns(t0, c, t_ms)));
}

awaitable<void> Connection::connect(std::int64_t connect_at) {
  connect_timer.expires_at(at(connect_at));
  co_await connect_timer.async_wait(kUse);
  if (ended) co_return;
  // A drain that came during the set-up still delivers what the client already sent (an abort
  // would have ended the connection): the onward connection is made, and reads nothing new.
  auto [ec] = co_await target.async_connect(link->target, kUse);
  if (ended) co_return;
  link->emit(LinkEvent::target_connect, now_ns(), id, 0, ec ? ec.value() : 0);
  if (ec) {  // the far end refused: the client sees a reset, as it would
    abort();
    co_return;
  }
  connected = true;
  target.set_option(tcp::no_delay(true));
  if (link->closing) drain();
  spawn(up.write_loop());
  spawn(down.read_loop());
  spawn(down.write_loop());
}

void Connection::finish() {
  if (ended) return;
  ended = true;
  boost::system::error_code ec;
  client.close(ec);
  target.close(ec);
  connect_timer.cancel();
  for (Pipe* p : {&up, &down}) {
    p->done = true;
    p->writer_wake.cancel();
    p->reader_wake.cancel();
  }
  link->emit(LinkEvent::close, now_ns(), id, 0, static_cast<std::int64_t>(up.delivered),
             static_cast<std::int64_t>(down.delivered));
  // Erase after this handler returns: the coroutines still hold `this` until they resume.
  asio::post(*link->strand, [l = link, i = id] { l->connection_done(i); });
}

}  // namespace satlink::simulator
