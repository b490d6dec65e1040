// bench/link-accuracy: how close to its plan the link emulator delivers bytes. Delay phase: N
// connections through a 300 ms one-way link, a small echoed message every 100 ms each; the
// delivered delay error (write time minus planned release, from the event log) and the echo time
// minus 600 ms. Rate phase: 1 and 6 connections downloading through a shared 25 Mbit/s downlink.
// Figures are printed, never asserted (bench/README.md).
//
// Three threads: the link under test on an io_context of its own (so its CPU time can be read),
// the peers (echo/source servers and the clients, all coroutines) on another, and main.
//
// This file: the options, the phases in order and the report (markdown tables on stdout), and the
// threads' set-up. link_accuracy_harness.cpp runs and measures one phase, link_accuracy_peers.cpp
// holds the servers and clients; link_accuracy_common.hpp is what they share.
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <future>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "link_accuracy_common.hpp"

namespace satlink::link_bench {
namespace {

// ---- phases and their report rows (main thread) ------------------------------------------------

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
}  // namespace satlink::link_bench

// main has to be at global scope; the rest of the benchmark is in a namespace the files share.
using namespace satlink::link_bench;

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
