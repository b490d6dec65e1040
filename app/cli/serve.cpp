// satlink-cli serve: one trial's chain kept up (LiveTestbed) for a real browser, until
// SIGINT or SIGTERM.
#include <pthread.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <sstream>

#include "common.hpp"
#include "satlink/simulator/live_testbed.hpp"

namespace satlink::cli {

namespace sim = satlink::simulator;

namespace {

std::string mode_names() {
  std::string names;
  for (sim::Mode m : sim::all_modes())
    names += (names.empty() ? "" : ", ") + std::string(sim::to_string(m));
  return names;
}

struct ServeArgs {
  std::string scenario;
  std::vector<std::string> sets;
  sim::Mode mode = sim::Mode::keep_alive;
  sim::LiveOptions live;
  bool quiet = false;
};

std::optional<std::string> parse_serve_args(const std::vector<std::string>& args, ServeArgs& a) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--mode" || arg == "--set" || arg == "--listen" || arg == "--port") {
      if (i + 1 >= args.size()) return arg + " needs a value";
      const std::string& v = args[++i];
      if (arg == "--mode" && !sim::parse(v, a.mode))
        return "--mode must be one of " + mode_names() + ", got '" + v + "'";
      if (arg == "--set") a.sets.push_back(v);
      if (arg == "--listen") {
        if (sim::classify_address(v) == sim::AddressKind::invalid)
          return "--listen must be a numeric IPv4 or IPv6 address, got '" + v + "'";
        a.live.listen_address = v;
      }
      if (arg == "--port") {
        auto n = parse_count(v, 1, 65535);
        if (!n) return "--port must be 1..65535, got '" + v + "'";
        a.live.listen_port = static_cast<std::uint16_t>(*n);
      }
    } else if (arg == "--quiet") {
      a.quiet = true;
    } else if (auto e = take_scenario(arg, a.scenario)) {
      return e;
    }
  }
  if (a.scenario.empty()) return "serve needs a SCENARIO.json";
  return std::nullopt;
}

void print_serving(const sim::LiveTestbed& bed, const sim::Scenario& s, sim::Mode mode) {
  std::printf("%s, mode %s: open this in a browser (or curl it):\n  %s\nchain: browser",
              s.name.empty() ? "scenario" : s.name.c_str(),
              std::string(sim::to_string(mode)).c_str(), bed.url().c_str());
  for (const auto& hop : bed.chain()) {
    std::printf(" -> %s %s:%u", hop.name.c_str(), hop.address.c_str(), hop.port);
    if (!hop.detail.empty()) std::printf(" (%s)", hop.detail.c_str());
  }
  std::printf("\nCtrl-C stops\n");
  std::fflush(stdout);
}

void print_counters(const sim::LiveCounters& c, std::int64_t seconds) {
  std::ostringstream line;
  line << "[" << seconds << " s] connections: client link " << c.client_link_connections
       << ", proxy client " << c.proxy_client_connections << ", proxy to origin "
       << c.proxy_server_connections << " (pooled reuses " << c.proxy_server_reuses << "), origin "
       << c.origin_connections << " (" << c.origin_open_connections << " open); origin requests "
       << c.origin_requests << "\n";
  std::fputs(line.str().c_str(), stdout);
  std::fflush(stdout);
}

// Waits for SIGINT or SIGTERM (blocked in every thread, taken here synchronously), printing
// the counters every 10 s when they changed.
void wait_for_stop_signal(const sigset_t& stop_signals, const sim::LiveTestbed& bed, bool quiet) {
  constexpr std::time_t kCounterPeriodS = 10;
  const auto start = std::chrono::steady_clock::now();
  sim::LiveCounters last;
  for (;;) {
    const timespec period{kCounterPeriodS, 0};
    const int sig = ::sigtimedwait(&stop_signals, nullptr, &period);
    if (sig == SIGINT || sig == SIGTERM) return;
    if (sig < 0 && errno != EAGAIN) continue;  // EINTR: another signal; keep waiting
    const sim::LiveCounters now = bed.counters();
    if (!quiet && now != last) {
      print_counters(now, std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::steady_clock::now() - start)
                              .count());
    }
    last = now;
  }
}

}  // namespace

int serve(const std::vector<std::string>& args) {
  ServeArgs a;
  if (auto e = parse_serve_args(args, a)) return usage_error(*e);
  const auto scenario = load_for_command(a.scenario, a.sets, nullptr);
  if (!scenario) return kUsage;
  if (!scenario->experiment.sweep.empty())
    std::cerr << "note: experiment.sweep is not applied; --set PATH=VALUE serves a point\n";
  if (sim::classify_address(a.live.listen_address) != sim::AddressKind::loopback) {
    std::cerr << "warning: listening on " << a.live.listen_address
              << ": anyone who can reach this address can use the testbed (and the origin "
                 "behind it); there is no authentication\n";
  }
  // Blocked before the testbed's thread exists, so that thread inherits the mask and the
  // signals wait for sigtimedwait below instead of interrupting a handler. A background job
  // of a non-interactive shell starts with SIGINT ignored, and an ignored signal is discarded,
  // never pending: the default is taken back so that kill -INT stops it too.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  sim::LiveTestbed bed;
  try {
    bed.start(*scenario, a.mode, a.live);
  } catch (const std::exception& e) {
    std::cerr << "satlink-cli: serve: " << e.what() << "\n";
    return kRunFailed;
  }
  print_serving(bed, *scenario, a.mode);
  wait_for_stop_signal(stop_signals, bed, a.quiet);
  bed.stop();
  std::printf("stopped\n");
  return kOk;
}

}  // namespace satlink::cli
