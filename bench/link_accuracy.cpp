// bench/link-accuracy: how close to its plan the link emulator delivers bytes. Delay phase: N
// connections through a 300 ms one-way link, a small echoed message every 100 ms each; the
// delivered delay error (write time minus planned release, from the event log) and the echo time
// minus 600 ms. Rate phase: 1 and 6 connections downloading through a shared 25 Mbit/s downlink.
// Figures are printed, never asserted (bench/README.md).
//
// Three threads: the link under test on an io_context of its own (so its CPU time can be read),
// the peers (echo/source servers and the clients, all coroutines) on another, and main.
#include <pthread.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <future>
#include <list>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "satlink/simulator/event_log.hpp"
#include "satlink/simulator/link.hpp"

namespace {

namespace asio = boost::asio;
namespace sim = satlink::simulator;
using asio::awaitable;
using asio::ip::tcp;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);

constexpr double kOneWayMs = 300;
constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kMessagePeriodNs = 100 * kMs;
constexpr std::size_t kMessageBytes = 32;
constexpr double kRateBps = 25e6;
constexpr double kRateSkipS = 2;  // the goodput window starts this long after the first read
constexpr double kDelayTargetMs = 1.0;
constexpr double kRateTargetPct = 2.0;
constexpr double kOtherCpuMaxPct = 10;   // above this, a phase was disturbed (see --retries)
constexpr rlim_t kFdsPerConnection = 4;  // client, link (both sides), target
constexpr rlim_t kFdsSpare = 64;

struct Options {
  double duration_s = 10;
  std::vector<int> delay_connections{1, 100, 1000};
  std::vector<int> rate_connections{1, 6};
  std::string events_dir;  // --events: raw deliveries as CSV
  int retries = 1;         // re-runs of a phase disturbed by other processes
};

// ---- time, CPU, statistics --------------------------------------------------------------------

asio::steady_timer::time_point at(std::int64_t t_ns) {
  return asio::steady_timer::time_point(std::chrono::nanoseconds(t_ns));
}

double thread_cpu_s(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// CPU times at one moment: the link's thread, the peers' thread, the whole machine (busy ticks of
// all cores from /proc/stat) and this process.
struct CpuMark {
  std::int64_t t_ns = 0;
  double link_s = 0, peer_s = 0, machine_s = 0, self_s = 0;
};

double machine_busy_s() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return (user + nice + system + irq + softirq + steal) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

// Shares over an interval: link and peers in % of one core; other processes in % of all cores.
struct CpuUse {
  double wall_s = 0, link_pct = 0, peer_pct = 0, other_pct = 0;
};

CpuUse cpu_between(const CpuMark& a, const CpuMark& b) {
  CpuUse u;
  u.wall_s = static_cast<double>(b.t_ns - a.t_ns) / 1e9;
  if (u.wall_s <= 0) return u;
  const double cores = static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN));
  u.link_pct = 100 * (b.link_s - a.link_s) / u.wall_s;
  u.peer_pct = 100 * (b.peer_s - a.peer_s) / u.wall_s;
  const double other = (b.machine_s - a.machine_s) - (b.self_s - a.self_s);
  u.other_pct = std::max(0.0, 100 * other / (u.wall_s * cores));
  return u;
}

struct Summary {
  std::size_t n = 0;
  double p50 = 0, p99 = 0, max = 0;
};

Summary summarize(std::vector<double> v) {
  Summary s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto rank = [&](double q) {  // nearest rank
    const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(i, 1, v.size()) - 1];
  };
  s.p50 = rank(0.50);
  s.p99 = rank(0.99);
  s.max = v.back();
  return s;
}

// The chunk_out events of a phase: every delivery of the link, both directions.
std::vector<sim::LogEvent> deliveries(const sim::EventLog& log) {
  std::vector<sim::LogEvent> out;
  for (const auto& e : log.events()) {
    if (e.is(sim::LinkEvent::chunk_out)) out.push_back(e);
  }
  return out;
}

// Write time minus planned release, in ms: the delivered delay error.
double error_ms(const sim::LogEvent& e) {
  return static_cast<double>(e.t_ns - e.b) / 1e6;
}

Summary summarize_errors(const std::vector<sim::LogEvent>& chunks) {
  std::vector<double> v;
  v.reserve(chunks.size());
  for (const auto& e : chunks) v.push_back(error_ms(e));
  return summarize(std::move(v));
}

// --events DIR: one CSV per phase, for a reader who wants to see where the error is.
void write_events(const std::string& dir, const std::string& name,
                  const std::vector<sim::LogEvent>& chunks) {
  if (dir.empty() || chunks.empty()) return;
  const std::string path = dir + "/" + name + ".csv";
  std::ofstream out(path);
  out << "t_ms,conn,dir,bytes,planned_ms,error_ms\n";
  const std::int64_t t0 = chunks.front().c;  // the first chunk's arrival
  for (const auto& e : chunks) {
    out << static_cast<double>(e.t_ns - t0) / 1e6 << ',' << e.conn << ',' << int{e.dir} << ','
        << e.a << ',' << static_cast<double>(e.b - e.c) / 1e6 << ',' << error_ms(e) << '\n';
  }
  if (!out) std::fprintf(stderr, "link-accuracy: cannot write %s\n", path.c_str());
}

// ---- the peers: target servers and clients (peer thread) --------------------------------------

struct Env {
  // Each phase's link logs here. A link's state may outlive its Link object by a few handlers,
  // so the logs are declared first: they go last, after the io_contexts.
  std::list<sim::EventLog> logs;
  asio::io_context link_ioc{1};
  asio::io_context peer_ioc{1};
  std::optional<tcp::acceptor> echo, source;
  std::uint16_t echo_port = 0, source_port = 0;
  std::uint64_t echo_accepted = 0, source_accepted = 0;  // peer thread only
  clockid_t link_clock{}, peer_clock{};
  bool disturbed = false;  // a printed row had other CPU above kOtherCpuMaxPct

  CpuMark mark() const {
    return {sim::now_ns(), thread_cpu_s(link_clock), thread_cpu_s(peer_clock), machine_busy_s(),
            self_cpu_s()};
  }
};

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

struct Measured {
  std::string error;  // non-empty: set-up failed
  CpuUse cpu;         // over the measured interval
  // delay phase
  std::uint64_t sent = 0, received = 0;
  std::vector<double> echo_error_ms;
  // rate phase: bytes per connection over the steady window
  std::vector<std::uint64_t> window_bytes;
};

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

// ---- phases (main thread) ---------------------------------------------------------------------

sim::LinkConfig delay_config() {
  sim::LinkConfig c;
  c.up.delay_ms = kOneWayMs;
  c.down.delay_ms = kOneWayMs;
  c.setup = sim::SetupModel::none;
  return c;
}

sim::LinkConfig rate_config() {
  sim::LinkConfig c = delay_config();
  c.down.rate_bps = kRateBps;
  return c;
}

using Phase = awaitable<Measured> (*)(Env*, std::uint16_t, int, double);

// Runs one phase through a fresh link; returns its figures and fills `chunks` (the link's
// deliveries). Throws std::runtime_error on a set-up failure.
Measured run_phase(Env& env, const sim::LinkConfig& config, std::uint16_t target_port, Phase phase,
                   int count, double duration_s, std::vector<sim::LogEvent>& chunks) {
  sim::EventLog& log = env.logs.emplace_back();
  sim::LinkOptions options;
  options.config = config;
  options.target_port = target_port;
  sim::Link link(options, &log);
  link.start_on(env.link_ioc);
  auto result =
      asio::co_spawn(env.peer_ioc, phase(&env, link.port(), count, duration_s), asio::use_future);
  const auto limit = std::chrono::duration<double>(duration_s + 30);
  const bool finished = result.wait_for(limit) == std::future_status::ready;
  link.close(sim::LinkClose::abort);
  const std::int64_t deadline = sim::now_ns() + 5'000 * kMs;
  while (link.open_connections() > 0 && sim::now_ns() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!finished) throw std::runtime_error("the phase did not finish within its time limit");
  Measured m = result.get();
  if (!m.error.empty()) throw std::runtime_error(m.error);
  chunks = deliveries(log);
  log.clear();
  return m;
}

// run_phase again (up to --retries times) while other processes used more than
// kOtherCpuMaxPct of the CPUs during it; the last attempt is kept, so the run stays bounded.
Measured run_phase_retrying(Env& env, const Options& o, const char* name,
                            const sim::LinkConfig& config, std::uint16_t target_port, Phase phase,
                            int count, std::vector<sim::LogEvent>& chunks) {
  for (int attempt = 0;; ++attempt) {
    Measured m = run_phase(env, config, target_port, phase, count, o.duration_s, chunks);
    if (m.cpu.other_pct <= kOtherCpuMaxPct) return m;
    if (attempt >= o.retries) {
      env.disturbed = true;
      return m;
    }
    std::fprintf(stderr,
                 "[link-accuracy] %s, %d connection%s: other processes used %.0f %% of the "
                 "CPUs; running it again\n",
                 name, count, count == 1 ? "" : "s", m.cpu.other_pct);
  }
}

const char* verdict(bool met) {
  return met ? "met" : "not met";
}

void delay_phase(Env& env, const Options& o, int count) {
  std::vector<sim::LogEvent> chunks;
  const Measured m = run_phase_retrying(env, o, "delay", delay_config(), env.echo_port,
                                        delay_clients, count, chunks);
  write_events(o.events_dir, "delay-" + std::to_string(count), chunks);
  const Summary l = summarize_errors(chunks);
  const Summary e = summarize(m.echo_error_ms);
  std::printf(
      "| delay | %d | link: write − planned release | %zu | %.3f | %.3f | %.3f | "
      "p99 ≤ %.0f ms | %s | %.1f | %.1f | %.1f |\n",
      count, l.n, l.p50, l.p99, l.max, kDelayTargetMs, verdict(l.p99 <= kDelayTargetMs),
      m.cpu.link_pct, m.cpu.peer_pct, m.cpu.other_pct);
  std::printf(
      "| delay | %d | end-to-end: echo − %.0f ms (%llu of %llu echoed) | %zu | %.3f | "
      "%.3f | %.3f | – | – | | | |\n",
      count, 2 * kOneWayMs, static_cast<unsigned long long>(m.received),
      static_cast<unsigned long long>(m.sent), e.n, e.p50, e.p99, e.max);
  std::fflush(stdout);
}

void rate_phase(Env& env, const Options& o, int count) {
  std::vector<sim::LogEvent> chunks;
  const Measured m = run_phase_retrying(env, o, "rate", rate_config(), env.source_port,
                                        rate_clients, count, chunks);
  write_events(o.events_dir, "rate-" + std::to_string(count), chunks);
  const Summary l = summarize_errors(chunks);
  auto mbps = [&](std::uint64_t bytes) {
    return static_cast<double>(bytes) * 8 / m.cpu.wall_s / 1e6;
  };
  std::uint64_t total = 0;
  for (auto b : m.window_bytes) total += b;
  const auto [lo, hi] = std::minmax_element(m.window_bytes.begin(), m.window_bytes.end());
  const double error_pct = 100 * (mbps(total) * 1e6 - kRateBps) / kRateBps;
  std::printf(
      "| rate | %d | %.3f | %+.2f | %.2f–%.2f | %.3f | %.3f | ±%.0f %% | %s | %.1f | "
      "%.1f |\n",
      count, mbps(total), error_pct, mbps(*lo), mbps(*hi), l.p99, l.max, kRateTargetPct,
      verdict(std::abs(error_pct) <= kRateTargetPct), m.cpu.link_pct, m.cpu.other_pct);
  std::fflush(stdout);
}

// ---- set-up -----------------------------------------------------------------------------------

void usage(std::FILE* to) {
  std::fprintf(
      to,
      "usage: satlink-bench-link [--duration S] [--connections 1,100,1000] [--quick] "
      "[--retries N] [--events DIR]\n"
      "  --duration S       seconds per phase (default 10)\n"
      "  --connections LIST connection counts of the delay phase (default 1,100,1000)\n"
      "  --quick            3 s per phase (a smoke run)\n"
      "  --retries N        re-run a phase while other processes use more than 10 %% of the\n"
      "                     CPUs during it, up to N times (default 1; the last run is kept)\n"
      "  --events DIR       also write each phase's deliveries (chunk_out) as CSV there\n");
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  bool quick = false, duration_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--duration" && has_value) {
      o.duration_s = std::atof(argv[++i]);
      duration_given = true;
      if (!(o.duration_s > 0)) return std::nullopt;
    } else if (arg == "--retries" && has_value) {
      o.retries = std::atoi(argv[++i]);
      if (o.retries < 0) return std::nullopt;
    } else if (arg == "--events" && has_value) {
      o.events_dir = argv[++i];
    } else if (arg == "--connections" && has_value) {
      o.delay_connections.clear();
      std::stringstream list(argv[++i]);
      for (std::string item; std::getline(list, item, ',');) {
        const int n = std::atoi(item.c_str());
        if (n <= 0) return std::nullopt;
        o.delay_connections.push_back(n);
      }
    } else {
      return std::nullopt;
    }
  }
  if (o.delay_connections.empty()) return std::nullopt;
  if (quick && !duration_given) o.duration_s = 3;
  return o;
}

// Raises the open-files limit to the hard limit; returns the limit now in force.
rlim_t raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return 0;
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
  getrlimit(RLIMIT_NOFILE, &r);
  return r.rlim_cur;
}

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
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

void run_all(Env& env, const Options& o, rlim_t fd_limit) {
  std::printf(
      "\n| phase | connections | measure | samples | p50 ms | p99 ms | max ms | target | "
      "result | link CPU %% | peer CPU %% | other CPU %% |\n"
      "|---|---:|---|---:|---:|---:|---:|---|---|---:|---:|---:|\n");
  for (int count : o.delay_connections) {
    const rlim_t need = kFdsPerConnection * static_cast<rlim_t>(count) + kFdsSpare;
    if (need > fd_limit) {
      std::printf(
          "| delay | %d | skipped: needs %llu open files, the limit is %llu | | | | | | | | | |\n",
          count, static_cast<unsigned long long>(need), static_cast<unsigned long long>(fd_limit));
      continue;
    }
    delay_phase(env, o, count);
  }
  std::printf(
      "\n| phase | connections | goodput Mbit/s | error %% | per connection Mbit/s | "
      "link write − planned p99 ms | max ms | target | result | link CPU %% | other CPU %% |\n"
      "|---|---:|---:|---:|---|---:|---:|---|---|---:|---:|\n");
  for (int count : o.rate_connections) rate_phase(env, o, count);
  std::printf(
      "\nlink CPU %%, peer CPU %%: the link's thread and the peers' thread (servers and "
      "clients), %% of one core; other CPU %%: every other process, %% of all cores.\n");
  if (env.disturbed) {
    std::printf(
        "\nWARNING: other processes used more than %.0f %% of the CPUs during some rows (after "
        "%d retries): their delay figures measure the machine, not the link.\n",
        kOtherCpuMaxPct, o.retries);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0)) {
    usage(stdout);
    return 0;
  }
  const auto options = parse_options(argc, argv);
  if (!options) {
    usage(stderr);
    return 2;
  }
  const std::string load = first_line("/proc/loadavg");
  const rlim_t fd_limit = raise_fd_limit();
  const int max_count =
      *std::max_element(options->delay_connections.begin(), options->delay_connections.end());
  const rlim_t need = kFdsPerConnection * static_cast<rlim_t>(max_count) + kFdsSpare;

  std::printf("# link-accuracy, %s\n\n", utc_now().c_str());
  std::printf("machine: %ld cores online, load average at start: %s; open-files limit %llu%s\n",
              sysconf(_SC_NPROCESSORS_ONLN), load.c_str(),
              static_cast<unsigned long long>(fd_limit),
              fd_limit < need ? " (lower than needed: larger phases are skipped)" : "");
  std::printf(
      "delay phase: %.0f ms one way, set-up none, no rate, no jitter or loss; a %zu-byte "
      "message every %lld ms per connection, echoed; %g s\n",
      kOneWayMs, kMessageBytes, static_cast<long long>(kMessagePeriodNs / kMs),
      options->duration_s);
  std::printf(
      "rate phase: downlink %.0f Mbit/s shared, %.0f ms one way, default window and "
      "queue; goodput over %g–%g s of each download\n",
      kRateBps / 1e6, kOneWayMs, std::min(kRateSkipS, options->duration_s / 2),
      options->duration_s);
  std::fflush(stdout);

  Env env;
  int status = 0;
  auto link_work = asio::make_work_guard(env.link_ioc);
  auto peer_work = asio::make_work_guard(env.peer_ioc);
  std::thread link_thread, peer_thread;
  try {
    open_servers(env);
    link_thread = std::thread([&] { env.link_ioc.run(); });
    peer_thread = std::thread([&] { env.peer_ioc.run(); });
    pthread_setname_np(link_thread.native_handle(), "link");  // for perf and top
    pthread_setname_np(peer_thread.native_handle(), "peers");
    pthread_getcpuclockid(link_thread.native_handle(), &env.link_clock);
    pthread_getcpuclockid(peer_thread.native_handle(), &env.peer_clock);
    run_all(env, *options, fd_limit);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "link-accuracy: set-up failed: %s\n", e.what());
    status = 1;
  }
  std::promise<void> closed;
  asio::post(env.peer_ioc, [&] {
    boost::system::error_code ignored;
    if (env.echo) env.echo->close(ignored);
    if (env.source) env.source->close(ignored);
    closed.set_value();
  });
  if (peer_thread.joinable()) closed.get_future().wait_for(std::chrono::seconds(2));
  link_work.reset();
  peer_work.reset();
  env.link_ioc.stop();
  env.peer_ioc.stop();
  if (link_thread.joinable()) link_thread.join();
  if (peer_thread.joinable()) peer_thread.join();
  return status;
}
