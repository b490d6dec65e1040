// bench/link-accuracy, the measurement harness: runs one phase through a fresh link on the link
// thread while its clients run on the peer thread, and turns what happened into figures (CPU
// shares of the link, the peers and other processes; delay-error statistics from the link's event
// log; the --events CSV). See link_accuracy.cpp for the benchmark as a whole.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "link_accuracy_common.hpp"

namespace satlink::link_bench {

// ---- CPU --------------------------------------------------------------------------------------

namespace {

double thread_cpu_s(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

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

}  // namespace

CpuMark Env::mark() const {
  return {sim::now_ns(), thread_cpu_s(link_clock), thread_cpu_s(peer_clock), machine_busy_s(),
          self_cpu_s()};
}

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

// ---- statistics -------------------------------------------------------------------------------

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

namespace {

// Write time minus planned release, in ms: the delivered delay error.
double error_ms(const sim::LogEvent& e) {
  return static_cast<double>(e.t_ns - e.b) / 1e6;
}

}  // namespace

Summary summarize_errors(const std::vector<sim::LogEvent>& chunks) {
  std::vector<double> v;
  v.reserve(chunks.size());
  for (const auto& e : chunks) v.push_back(error_ms(e));
  return summarize(std::move(v));
}

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

// ---- phases -----------------------------------------------------------------------------------

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

namespace {

// The chunk_out events of a phase: every delivery of the link, both directions.
std::vector<sim::LogEvent> deliveries(const sim::EventLog& log) {
  std::vector<sim::LogEvent> out;
  for (const auto& e : log.events()) {
    if (e.is(sim::LinkEvent::chunk_out)) out.push_back(e);
  }
  return out;
}

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

}  // namespace

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

}  // namespace satlink::link_bench
