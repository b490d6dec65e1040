// Private to the link: the running link's state (LinkState), one connection (Connection) and
// its two directions (Pipe). link.cpp runs the listener and the public API; link_connection.cpp
// moves one connection's bytes through the model.
#pragma once

#include <boost/asio.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "link_model.hpp"
#include "satlink/simulator/link.hpp"

namespace satlink::simulator {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using Strand = asio::strand<asio::any_io_executor>;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadSize = 64 * 1024;

namespace link_detail {

inline asio::steady_timer::time_point at(std::int64_t t_ns) {
  return asio::steady_timer::time_point(std::chrono::nanoseconds(t_ns));
}

inline void abort_socket(tcp::socket& s) {
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

}  // namespace link_detail

using link_detail::Pending;

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
    link_detail::abort_socket(client);
    link_detail::abort_socket(target);
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

}  // namespace satlink::simulator
