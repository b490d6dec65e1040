// The relay around the link model: sockets, timers and events. One strand per link, so the
// shared bottleneck and the connection set need no locks; only the configuration is shared with
// other threads (under a mutex).
#include "satlink/simulator/link.hpp"

#include <boost/asio.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "link_model.hpp"

namespace satlink::simulator {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using Strand = asio::strand<asio::any_io_executor>;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadSize = 64 * 1024;

namespace {

asio::steady_timer::time_point at(std::int64_t t_ns) {
  return asio::steady_timer::time_point(std::chrono::nanoseconds(t_ns));
}

void abort_socket(tcp::socket& s) {
  boost::system::error_code ec;
  if (!s.is_open()) return;
  s.set_option(asio::socket_base::linger(true, 0), ec);
  s.close(ec);
}

enum class Marker : std::uint8_t { data, fin, reset };

struct Pending {
  std::vector<char> bytes;
  std::int64_t release_ns = 0;
  std::int64_t arrival_ns = 0;
  Marker marker = Marker::data;
};

}  // namespace

struct Connection;

struct LinkState : std::enable_shared_from_this<LinkState> {
  LinkOptions options;
  EventLog* log;
  mutable std::mutex config_mutex;
  LinkConfig config;  // guarded by config_mutex
  std::unique_ptr<asio::io_context> own_ioc;
  std::thread thread;
  std::optional<Strand> strand;
  std::optional<tcp::acceptor> acceptor;
  tcp::endpoint target;
  std::uint16_t port = 0;
  std::int64_t start_ns = 0;
  Bottleneck bottleneck[2];  // [0] uplink, [1] downlink
  std::uint64_t next_id = 1;
  std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> connections;
  bool closing = false;
  std::atomic<std::size_t> open{0};
  std::mutex closed_mutex;
  std::condition_variable closed_cv;
  bool accept_done = false;

  LinkState(LinkOptions o, EventLog* l) : options(std::move(o)), log(l), config(options.config) {}

  void emit(LinkEvent kind, std::int64_t t, std::uint64_t conn, int dir, std::int64_t a = 0,
            std::int64_t b = 0, std::int64_t c = 0) const {
    if (!log) return;
    log->add(make_event(options.component, kind, t, conn, 0, a, b, c, static_cast<std::uint8_t>(dir)));
  }
  LinkConfig snapshot() const {
    std::lock_guard lock(config_mutex);
    return config;
  }
  double since_start_ms(std::int64_t t) const { return static_cast<double>(t - start_ns) / 1e6; }

  void bind(asio::any_io_executor ex);
  awaitable<void> accept_loop();
  void connection_done(std::uint64_t id);
  void notify_if_closed();
};

// One direction of one connection: a reader that plans, a writer that releases on time.
struct Pipe {
  Pipe(Connection& c, int direction, std::uint64_t seed);
  Connection& conn;
  int dir;  // 0 = up, 1 = down
  tcp::socket* from = nullptr;
  tcp::socket* to = nullptr;
  Flow flow;
  std::deque<Pending> queue;
  std::uint64_t in_flight = 0;
  std::uint64_t delivered = 0;
  asio::steady_timer writer_wake;
  asio::steady_timer reader_wake;
  bool writer_waiting = false;
  bool reader_waiting = false;
  bool done = false;

  awaitable<void> read_loop();
  awaitable<void> write_loop();
  void push(Pending p);
  bool deliver_marker(const Pending& p);
};

struct Connection : std::enable_shared_from_this<Connection> {
  Connection(std::shared_ptr<LinkState> l, std::uint64_t i, tcp::socket client_socket,
             std::uint64_t seed)
      : link(std::move(l)),
        id(i),
        client(std::move(client_socket)),
        target(*link->strand),
        up(*this, 0, seed),
        down(*this, 1, seed ^ 0x5bd1e995) {
    up.from = &client;
    up.to = &target;
    down.from = &target;
    down.to = &client;
  }
  std::shared_ptr<LinkState> link;
  std::uint64_t id;
  tcp::socket client;
  tcp::socket target;
  Pipe up, down;
  asio::steady_timer connect_timer{*link->strand};  // waits for the SYN's arrival
  bool connected = false;
  bool ended = false;

  void start();
  awaitable<void> connect(std::int64_t connect_at);
  void abort() {
    abort_socket(client);
    abort_socket(target);
    finish();
  }
  void finish();
  void direction_done(Pipe& p) {
    p.done = true;
    if (up.done && down.done) finish();
  }
  void spawn(awaitable<void> a) {
    asio::co_spawn(*link->strand, std::move(a), [self = shared_from_this()](std::exception_ptr e) {
      if (e) self->abort();
    });
  }
  void drain() {
    boost::system::error_code ec;
    if (client.is_open()) client.shutdown(tcp::socket::shutdown_receive, ec);
    if (target.is_open()) target.shutdown(tcp::socket::shutdown_receive, ec);
  }
};

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
  boost::system::error_code ec;
  to->shutdown(tcp::socket::shutdown_send, ec);
  link.emit(LinkEvent::fin, t, conn.id, dir);
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
  link->emit(LinkEvent::accept, t0, id, 0);
  link->emit(LinkEvent::setup_start, t0, id, 0);
  link->emit(LinkEvent::setup_end, up.flow.hold_until_ns, id, 0);
  spawn(up.read_loop());
  spawn(connect(target_connect_ns(t0, c, t_ms)));
}

awaitable<void> Connection::connect(std::int64_t connect_at) {
  connect_timer.expires_at(at(connect_at));
  co_await connect_timer.async_wait(kUse);
  if (ended) co_return;
  if (link->closing) {  // still in set-up when the link closed: nothing to drain
    abort();
    co_return;
  }
  auto [ec] = co_await target.async_connect(link->target, kUse);
  if (ended) co_return;
  link->emit(LinkEvent::target_connect, now_ns(), id, 0, ec ? ec.value() : 0);
  if (ec) {  // the far end refused: the client sees a reset, as it would
    abort();
    co_return;
  }
  connected = true;
  target.set_option(tcp::no_delay(true));
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

void LinkState::bind(asio::any_io_executor ex) {
  strand.emplace(asio::make_strand(ex));
  boost::system::error_code ec;
  const auto listen = asio::ip::make_address(options.listen_address, ec);
  if (ec) throw std::invalid_argument("link: bad listen address '" + options.listen_address + "'");
  acceptor.emplace(*strand);
  const tcp::endpoint endpoint(listen, options.listen_port);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("link: cannot listen on " + options.listen_address + ":" +
                             std::to_string(options.listen_port) + ": " + ec.message());
  }
  port = acceptor->local_endpoint().port();
  start_ns = now_ns();
  asio::co_spawn(*strand, accept_loop(), [self = shared_from_this()](std::exception_ptr) {
    self->accept_done = true;
    self->notify_if_closed();
  });
}

awaitable<void> LinkState::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(kUse);
    if (closing) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    socket.set_option(tcp::no_delay(true));
    const std::uint64_t id = next_id++;
    const std::uint64_t seed = snapshot().seed * 0x9e3779b97f4a7c15ULL + id;
    auto conn = std::make_shared<Connection>(shared_from_this(), id, std::move(socket), seed);
    connections.emplace(id, conn);
    ++open;
    conn->start();
  }
}

void LinkState::connection_done(std::uint64_t id) {
  if (connections.erase(id) == 1) --open;
  notify_if_closed();
}

void LinkState::notify_if_closed() {
  std::lock_guard lock(closed_mutex);
  closed_cv.notify_all();
}

Link::Link(LinkOptions options, EventLog* log)
    : impl_(std::make_shared<LinkState>(std::move(options), log)) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(impl_->options.target_address, ec);
  if (ec) {
    throw std::invalid_argument("link: bad target address '" + impl_->options.target_address +
                                "' (a numeric IPv4 or IPv6 address)");
  }
  impl_->target = tcp::endpoint(address, impl_->options.target_port);
}

Link::~Link() {
  if (!impl_->strand) return;
  close(LinkClose::abort);
  if (!impl_->thread.joinable()) return;
  impl_->thread.join();
  // If the thread had already run out of work, the abort is still queued on our io_context and
  // holds the state that owns that io_context: run it so the cycle ends.
  impl_->own_ioc->restart();
  impl_->own_ioc->run();
}

void Link::start_on(asio::io_context& ioc) { impl_->bind(ioc.get_executor()); }

void Link::start() {
  impl_->own_ioc = std::make_unique<asio::io_context>(1);
  impl_->bind(impl_->own_ioc->get_executor());
  impl_->thread = std::thread([impl = impl_] { impl->own_ioc->run(); });
}

std::uint16_t Link::port() const { return impl_->port; }

void Link::set_config(const LinkConfig& config) {
  {
    std::lock_guard lock(impl_->config_mutex);
    impl_->config = config;
  }
  impl_->emit(LinkEvent::config_change, now_ns(), 0, 0, ms_to_ns(config.up.delay_ms) / 1000,
              ms_to_ns(config.down.delay_ms) / 1000);
}

LinkConfig Link::config() const { return impl_->snapshot(); }

void Link::close(LinkClose mode) {
  if (!impl_->strand) return;
  asio::post(*impl_->strand, [impl = impl_, mode] {
    impl->closing = true;
    boost::system::error_code ec;
    impl->acceptor->close(ec);
    auto connections = impl->connections;  // aborting erases from the map
    for (auto& [id, conn] : connections) {
      if (mode == LinkClose::abort) {
        conn->abort();
      } else {
        conn->drain();
      }
    }
  });
}

void Link::wait_closed() {
  std::unique_lock lock(impl_->closed_mutex);
  impl_->closed_cv.wait(lock, [&] { return impl_->accept_done && impl_->open == 0; });
}

std::size_t Link::open_connections() const { return impl_->open; }

}  // namespace satlink::simulator
