// bench/link-accuracy, the peers: the target servers (an echo server for the delay phase, an
// endless download for the rate phase) and the clients that drive each phase through the link. All
// are coroutines on the peer thread's io_context, so their CPU time is the "peer CPU" column.
// See link_accuracy.cpp for the benchmark as a whole.
#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "link_accuracy_common.hpp"

namespace satlink::link_bench {
namespace {

asio::steady_timer::time_point at(std::int64_t t_ns) {
  return asio::steady_timer::time_point(std::chrono::nanoseconds(t_ns));
}

awaitable<void> sleep_until(std::int64_t t_ns) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex, at(t_ns));
  co_await timer.async_wait(kUse);
}

// Polls `done` every 10 ms until it holds (true) or the deadline passes (false).
awaitable<bool> poll_until(std::function<bool()> done, std::int64_t deadline_ns) {
  for (;;) {
    if (done()) co_return true;
    if (sim::now_ns() >= deadline_ns) co_return false;
    co_await sleep_until(sim::now_ns() + 10 * kMs);
  }
}

awaitable<void> echo_session(tcp::socket s) {
  std::array<char, 4096> buf;
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), kUse);
    if (ec) co_return;
    auto [wec, wn] = co_await asio::async_write(s, asio::buffer(buf.data(), n), kUse);
    if (wec) co_return;
  }
}

awaitable<void> source_session(tcp::socket s) {  // an endless download
  std::vector<char> buf(64 * 1024, 'x');
  for (;;) {
    auto [ec, n] = co_await asio::async_write(s, asio::buffer(buf), kUse);
    if (ec) co_return;
  }
}

awaitable<void> serve(tcp::acceptor* acceptor, bool echo, std::uint64_t* accepted) {
  for (;;) {
    auto [ec, s] = co_await acceptor->async_accept(kUse);
    if (!acceptor->is_open() || ec == asio::error::operation_aborted) co_return;
    if (ec) {  // e.g. out of file descriptors: the phase's connection count will show it
      co_await sleep_until(sim::now_ns() + 10 * kMs);
      continue;
    }
    boost::system::error_code ignored;
    s.set_option(tcp::no_delay(true), ignored);
    ++*accepted;
    if (echo) {
      asio::co_spawn(acceptor->get_executor(), echo_session(std::move(s)), asio::detached);
    } else {
      asio::co_spawn(acceptor->get_executor(), source_session(std::move(s)), asio::detached);
    }
  }
}

// Opens `count` connections to the link, one after the other; returns an error text or "".
awaitable<std::string> connect_all(std::vector<tcp::socket>* sockets, int count,
                                   std::uint16_t port) {
  auto ex = co_await asio::this_coro::executor;
  const tcp::endpoint link(asio::ip::address_v4::loopback(), port);
  for (int i = 0; i < count; ++i) {
    tcp::socket s(ex);
    auto [ec] = co_await s.async_connect(link, kUse);
    if (ec) co_return "connection " + std::to_string(i + 1) + " to the link: " + ec.message();
    boost::system::error_code ignored;
    s.set_option(tcp::no_delay(true), ignored);
    sockets->push_back(std::move(s));
  }
  co_return std::string();
}

// Waits until the target server has accepted `count` more connections than `before`.
awaitable<std::string> wait_accepted(const std::uint64_t* accepted, std::uint64_t before,
                                     int count) {
  const auto want = static_cast<std::uint64_t>(count);
  const bool all =
      co_await poll_until([=] { return *accepted - before >= want; }, sim::now_ns() + 10'000 * kMs);
  if (all) co_return std::string();
  co_return "the target accepted " + std::to_string(*accepted - before) + " of " +
      std::to_string(count) + " connections within 10 s";
}

// ---- the delay phase: small messages, echoed ---------------------------------------------------

struct DelayClients {
  std::vector<tcp::socket> sockets;
  std::vector<double> echo_error_ms;
  std::uint64_t sent = 0, received = 0;
  int sending = 0;
};

awaitable<void> delay_sender(DelayClients* st, std::size_t i, std::int64_t first_ns,
                             std::int64_t stop_ns) {
  std::array<char, kMessageBytes> msg{};
  for (std::int64_t t = first_ns; t < stop_ns; t += kMessagePeriodNs) {
    co_await sleep_until(t);
    const std::int64_t sent_ns = sim::now_ns();
    std::memcpy(msg.data(), &sent_ns, sizeof sent_ns);
    auto [ec, n] = co_await asio::async_write(st->sockets[i], asio::buffer(msg), kUse);
    if (ec) break;
    ++st->sent;
  }
  --st->sending;
}

awaitable<void> delay_receiver(DelayClients* st, std::size_t i) {
  std::array<char, kMessageBytes> msg{};
  for (;;) {
    auto [ec, n] = co_await asio::async_read(st->sockets[i], asio::buffer(msg), kUse);
    if (ec) co_return;
    std::int64_t sent_ns = 0;
    std::memcpy(&sent_ns, msg.data(), sizeof sent_ns);
    st->echo_error_ms.push_back(static_cast<double>(sim::now_ns() - sent_ns) / 1e6 - 2 * kOneWayMs);
    ++st->received;
  }
}

}  // namespace

awaitable<Measured> delay_clients(Env* env, std::uint16_t port, int count, double duration_s) {
  Measured m;
  auto st = std::make_shared<DelayClients>();
  const std::uint64_t before = env->echo_accepted;
  m.error = co_await connect_all(&st->sockets, count, port);
  if (!m.error.empty()) co_return m;
  m.error = co_await wait_accepted(&env->echo_accepted, before, count);
  if (!m.error.empty()) co_return m;

  auto ex = co_await asio::this_coro::executor;
  const std::int64_t start = sim::now_ns() + 20 * kMs;
  const std::int64_t stop = start + static_cast<std::int64_t>(duration_s * 1e9);
  const CpuMark mark0 = env->mark();
  for (std::size_t i = 0; i < st->sockets.size(); ++i) {  // staggered over one period
    const std::int64_t first = start + static_cast<std::int64_t>(i) * kMessagePeriodNs / count;
    ++st->sending;
    asio::co_spawn(ex, delay_sender(st.get(), i, first, stop), [st](std::exception_ptr) {});
    asio::co_spawn(ex, delay_receiver(st.get(), i), [st](std::exception_ptr) {});
  }
  const std::int64_t drain_deadline =
      stop + 2 * static_cast<std::int64_t>(kOneWayMs) * kMs + 2'000 * kMs;
  co_await poll_until([&] { return st->sending == 0 && st->received >= st->sent; }, drain_deadline);
  m.cpu = cpu_between(mark0, env->mark());
  m.sent = st->sent;
  m.received = st->received;
  m.echo_error_ms = st->echo_error_ms;
  boost::system::error_code ignored;
  for (auto& s : st->sockets) s.close(ignored);
  co_return m;
}

// ---- the rate phase: endless downloads ---------------------------------------------------------

namespace {

struct RateClients {
  std::vector<tcp::socket> sockets;
  std::vector<std::uint64_t> bytes;
};

awaitable<void> rate_reader(RateClients* st, std::size_t i) {
  std::vector<char> buf(64 * 1024);
  for (;;) {
    auto [ec, n] = co_await st->sockets[i].async_read_some(asio::buffer(buf), kUse);
    if (ec) co_return;
    st->bytes[i] += n;
  }
}

}  // namespace

awaitable<Measured> rate_clients(Env* env, std::uint16_t port, int count, double duration_s) {
  Measured m;
  auto st = std::make_shared<RateClients>();
  const std::uint64_t before = env->source_accepted;
  m.error = co_await connect_all(&st->sockets, count, port);
  if (!m.error.empty()) co_return m;
  m.error = co_await wait_accepted(&env->source_accepted, before, count);
  if (!m.error.empty()) co_return m;

  auto ex = co_await asio::this_coro::executor;
  st->bytes.assign(st->sockets.size(), 0);
  const std::int64_t start = sim::now_ns();
  for (std::size_t i = 0; i < st->sockets.size(); ++i)
    asio::co_spawn(ex, rate_reader(st.get(), i), [st](std::exception_ptr) {});
  const double skip_s = std::min(kRateSkipS, duration_s / 2);
  co_await sleep_until(start + static_cast<std::int64_t>(skip_s * 1e9));
  const std::vector<std::uint64_t> bytes1 = st->bytes;
  const CpuMark mark1 = env->mark();
  co_await sleep_until(start + static_cast<std::int64_t>(duration_s * 1e9));
  const std::vector<std::uint64_t> bytes2 = st->bytes;
  m.cpu = cpu_between(mark1, env->mark());
  for (std::size_t i = 0; i < bytes2.size(); ++i) m.window_bytes.push_back(bytes2[i] - bytes1[i]);
  boost::system::error_code ignored;
  for (auto& s : st->sockets) s.close(ignored);
  co_return m;
}

void open_servers(Env& env) {
  const tcp::endpoint any_port(asio::ip::address_v4::loopback(), 0);
  env.echo.emplace(env.peer_ioc, any_port);
  env.source.emplace(env.peer_ioc, any_port);
  env.echo_port = env.echo->local_endpoint().port();
  env.source_port = env.source->local_endpoint().port();
  asio::co_spawn(env.peer_ioc, serve(&*env.echo, true, &env.echo_accepted), asio::detached);
  asio::co_spawn(env.peer_ioc, serve(&*env.source, false, &env.source_accepted), asio::detached);
}

}  // namespace satlink::link_bench
