// satlink-cli: the experiment engine without a display. run, serve, validate, presets.
// Exit codes: 0 ok, 1 the run failed (or serve could not bind), 2 usage or invalid scenario.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#ifdef SATLINK_HAVE_CHARTS
#include "charts_output.hpp"
#endif
#include "satlink/proxycore/json_reader.hpp"
#include "satlink/simulator/experiment.hpp"
#include "satlink/simulator/link_config.hpp"
#include "satlink/simulator/live_testbed.hpp"
#include "satlink/simulator/results_io.hpp"
#include "satlink/simulator/scenario.hpp"

namespace sim = satlink::simulator;

namespace {

constexpr int kOk = 0, kRunFailed = 1, kUsage = 2;

const char* kUsageText = R"(usage: satlink-cli COMMAND [OPTIONS]

commands:
  run SCENARIO.json     run the experiment and write results (default ./out)
  serve SCENARIO.json   keep one trial's chain up (no replay client) for a real browser
                        or curl, until Ctrl-C: prints the URL to open
  validate FILE...      check scenario files; every error with its JSON path
  presets               the link presets with their figures and sources

run options:
  --out DIR             where results go (default: out)
  --set PATH=VALUE      override a scenario field by JSON path (repeatable),
                        e.g. --set client_link.preset=leo --set client.connections_per_host=2
  --repetitions N       override experiment.repetitions
  --parallel N          trials at once (default: the scenario's, else one per core)
  --format LIST         any of csv,json,har,png,svg,pdf (default: all; charts
                        need the Qt build and go to DIR/charts/)
  --events              also write events.jsonl (every event of every trial)
  --quiet               no progress
  --help                this text

serve options:
  --mode MODE           no-proxy, keep-alive (default), server-close, close, client-close
  --set PATH=VALUE      as for run (an experiment.sweep is not applied: set the point)
  --listen ADDR         the numeric address the browser connects to (default 127.0.0.1);
                        any other lets whoever can reach it use the testbed and the origin
  --port N              the port the browser connects to (default: any free port)
  --quiet               no connection counters every 10 s
)";

std::atomic<bool> g_cancel{false};
void on_signal(int) { g_cancel = true; }

int usage_error(const std::string& message) {
  std::cerr << "satlink-cli: " << message << "\n(satlink-cli --help for usage)\n";
  return kUsage;
}

std::optional<std::uint32_t> parse_count(const std::string& s, std::uint32_t lo, std::uint32_t hi) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9)
    return std::nullopt;
  const auto v = static_cast<std::uint32_t>(std::stoul(s));
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

int presets() {
  std::printf("%-18s %9s %12s %12s  %s\n", "id", "RTT ms", "down bit/s", "up bit/s", "description");
  for (const auto& p : sim::link_presets()) {
    std::printf("%-18s %9g %12g %12g  %s\n", std::string(p.id).c_str(), p.config.rtt_ms(),
                p.config.down.rate_bps, p.config.up.rate_bps, std::string(p.description).c_str());
    std::printf("%-18s %9s %12s %12s  source: %s\n", "", "", "", "", std::string(p.source).c_str());
  }
  return kOk;
}

int validate(const std::vector<std::string>& files) {
  if (files.empty()) return usage_error("validate needs at least one FILE");
  int status = kOk;
  for (const auto& f : files) {
    auto r = sim::load_scenario_file(f);
    if (r.ok()) {
      std::cout << f << ": ok\n";
      continue;
    }
    status = kUsage;
    for (const auto& e : r.errors)
      std::cerr << f << ": " << (e.path.empty() ? "(root)" : e.path) << ": " << e.reason << "\n";
  }
  return status;
}

struct RunArgs {
  std::string scenario;
  std::string out = "out";
  std::vector<std::string> sets;
  std::optional<std::uint32_t> repetitions;
  sim::RunOptions run;
  sim::OutputOptions output;
  std::vector<std::string> charts = {"png", "svg", "pdf"};
  bool quiet = false;
};

std::optional<std::string> parse_formats(const std::string& list, sim::OutputOptions& o,
                                         std::vector<std::string>& charts) {
  o.csv = o.json = o.har = false;
  charts.clear();
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item == "csv") o.csv = true;
    else if (item == "json") o.json = true;
    else if (item == "har") o.har = true;
    else if (item == "png" || item == "svg" || item == "pdf") charts.push_back(item);
    else return "--format: unknown format '" + item + "' (csv, json, har, png, svg, pdf)";
  }
#ifndef SATLINK_HAVE_CHARTS
  if (!charts.empty()) return "--format " + charts.front() + ": this build has no Qt (charts)";
#endif
  return std::nullopt;
}

std::optional<std::string> parse_run_args(const std::vector<std::string>& args, RunArgs& a) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    if (arg == "--out" || arg == "--set" || arg == "--repetitions" || arg == "--parallel" ||
        arg == "--format") {
      auto v = value();
      if (!v) return arg + " needs a value";
      if (arg == "--out") a.out = *v;
      if (arg == "--set") a.sets.push_back(*v);
      if (arg == "--repetitions" && !(a.repetitions = parse_count(*v, 1, 1000)))
        return "--repetitions must be 1..1000, got '" + *v + "'";
      if (arg == "--parallel") {
        auto n = parse_count(*v, 1, 256);
        if (!n) return "--parallel must be 1..256, got '" + *v + "'";
        a.run.parallelism = *n;
      }
      if (arg == "--format")
        if (auto e = parse_formats(*v, a.output, a.charts)) return e;
    } else if (arg == "--events") {
      a.run.keep_events = a.output.events = true;
    } else if (arg == "--quiet") {
      a.quiet = true;
    } else if (!arg.empty() && arg[0] == '-') {
      return "unknown option " + arg;
    } else if (a.scenario.empty()) {
      a.scenario = arg;
    } else {
      return "one scenario at a time (got '" + a.scenario + "' and '" + arg + "')";
    }
  }
  if (a.scenario.empty()) return "run needs a SCENARIO.json";
  return std::nullopt;
}

void print_progress(const sim::Progress& p, const sim::TrialResult& r, bool tty) {
  if (tty) {
    const int width = 30;
    const int filled = static_cast<int>(width * p.done / std::max<std::size_t>(1, p.total));
    std::fprintf(stderr, "\r[%s%s] %zu/%zu %-50.50s", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), p.done, p.total, r.label.c_str());
    if (p.done == p.total) std::fputc('\n', stderr);
  } else {
    std::fprintf(stderr, "trial %zu/%zu %s: %s\n", p.done, p.total, r.label.c_str(),
                 r.error.empty() ? "ok" : r.error.c_str());
  }
}

// The answer in numbers: page-load time per mode (and sweep point), measured and predicted.
void print_answer(const std::vector<sim::TrialResult>& results) {
  std::printf("\n%-14s %-24s %10s %9s %10s %10s %9s %9s\n", "mode", "sweep point", "load ms",
              "±95% ms", "tcp pred", "seed pred", "client cx", "origin cx");
  std::map<std::pair<std::uint32_t, sim::Mode>, std::map<std::string, sim::Aggregate>> table;
  std::map<std::uint32_t, std::string> point_names;
  for (const auto& row : sim::summarize(results)) {
    table[{row.point, row.mode}][row.metric] = row.value;
    std::string name;
    for (const auto& v : row.sweep_values) name += (name.empty() ? "" : ",") + v.dump();
    point_names[row.point] = name.empty() ? "-" : name;
  }
  for (const auto& [key, m] : table) {
    auto get = [&](const char* k) { return m.count(k) ? m.at(k) : sim::Aggregate{}; };
    const auto load = get("page_load_ms");
    std::printf("%-14s %-24s %10.0f %9.0f %10.0f %10.0f %9.1f %9.1f\n",
                std::string(sim::to_string(key.second)).c_str(), point_names[key.first].c_str(),
                load.mean, (load.ci95_high - load.ci95_low) / 2,
                get("predicted_tcp_page_load_ms").mean, get("predicted_seed_page_load_ms").mean,
                get("client_connections").mean, get("origin_connections").mean);
  }
}

// The scenario file with --set overrides applied (and `patch` for options that stand for a
// field), loaded; errors are printed, and nullopt means exit 2.
std::optional<sim::Scenario> load_for_command(const std::string& file,
                                              const std::vector<std::string>& sets,
                                              const std::function<void(nlohmann::json&)>& patch) {
  std::vector<satlink::proxycore::ConfigError> errors;
  auto doc = satlink::proxycore::json_reader::read_json_file(file, errors);
  if (!doc) {
    std::cerr << file << ": " << errors.front().reason << "\n";
    return std::nullopt;
  }
  for (const auto& s : sets) {
    if (auto e = sim::apply_override(*doc, s)) {
      std::cerr << "--set " << s << ": " << e->path << ": " << e->reason << "\n";
      return std::nullopt;
    }
  }
  if (patch) patch(*doc);
  auto loaded = sim::load_scenario(*doc);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors)
      std::cerr << file << ": " << (e.path.empty() ? "(root)" : e.path) << ": " << e.reason
                << "\n";
    return std::nullopt;
  }
  return std::move(loaded.scenario);
}

int run(const std::vector<std::string>& args) {
  RunArgs a;
  if (auto e = parse_run_args(args, a)) return usage_error(*e);
  const auto scenario = load_for_command(a.scenario, a.sets, [&](nlohmann::json& doc) {
    if (a.repetitions) doc["experiment"]["repetitions"] = *a.repetitions;
  });
  if (!scenario) return kUsage;
  const sim::ExperimentPlan plan = sim::plan_experiment(*scenario);
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  if (!a.quiet) {
    std::fprintf(stderr, "%s: %zu trials, %u at a time\n", scenario->name.c_str(),
                 plan.trials.size(), sim::effective_parallelism(plan, a.run));
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  auto results = sim::run_experiment(
      plan, a.run,
      [&](const sim::Progress& p, const sim::TrialResult& r) {
        if (!a.quiet) print_progress(p, r, tty);
      },
      g_cancel);
  try {
    for (const auto& f : sim::write_results(a.out, *scenario, plan, results, a.output))
      if (!a.quiet) std::fprintf(stderr, "wrote %s\n", f.c_str());
#ifdef SATLINK_HAVE_CHARTS
    if (!a.charts.empty()) {
      const auto files = satlink::cli::write_charts(a.out + "/charts", *scenario, plan, results, a.charts);
      if (!a.quiet) std::fprintf(stderr, "wrote %zu charts to %s/charts\n", files.size(), a.out.c_str());
    }
#endif
  } catch (const std::exception& e) {
    std::cerr << "satlink-cli: " << e.what() << "\n";
    return kRunFailed;
  }
  print_answer(results);
  std::size_t failed = 0;
  for (const auto& r : results) failed += r.error.empty() ? 0 : 1;
  if (g_cancel) {
    std::cerr << "cancelled: " << results.size() << " of " << plan.trials.size() << " trials ran\n";
    return kRunFailed;
  }
  if (failed > 0) {
    std::cerr << failed << " of " << results.size() << " trials failed (see results.csv)\n";
    return kRunFailed;
  }
  return kOk;
}

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
    } else if (!arg.empty() && arg[0] == '-') {
      return "unknown option " + arg;
    } else if (a.scenario.empty()) {
      a.scenario = arg;
    } else {
      return "one scenario at a time (got '" + a.scenario + "' and '" + arg + "')";
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

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage_error("a command is needed");
  for (const auto& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsageText;
      return kOk;
    }
  }
  const std::string command = args.front();
  args.erase(args.begin());
  try {
    if (command == "run") return run(args);
    if (command == "serve") return serve(args);
    if (command == "validate") return validate(args);
    if (command == "presets") return args.empty() ? presets() : usage_error("presets takes no arguments");
  } catch (const std::exception& e) {
    std::cerr << "satlink-cli: " << e.what() << "\n";
    return kRunFailed;
  }
  return usage_error("unknown command '" + command + "'");
}
