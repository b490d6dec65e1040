// satlink-cli: the experiment engine without a display. run, serve, validate, presets.
// Exit codes: 0 ok, 1 the run failed (or serve could not bind), 2 usage or invalid scenario.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
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
#include "common.hpp"
#include "satlink/simulator/answer.hpp"
#include "satlink/simulator/experiment.hpp"
#include "satlink/simulator/link_config.hpp"
#include "satlink/simulator/results_io.hpp"
#include "satlink/simulator/scenario.hpp"

namespace sim = satlink::simulator;
using namespace satlink::cli;

namespace {

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
  --parallel N          trials at once (default: the scenario's, else automatic:
                        16 per core, 16..64, within the open-file limit)
  --trials LIST         run only these trials of the plan, by index as in results.csv,
                        e.g. 0,5,10-14 (each with the seed it has in the whole plan)
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
  std::string trials;  // --trials LIST, checked against the plan
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
        arg == "--format" || arg == "--trials") {
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
      if (arg == "--trials") a.trials = *v;
    } else if (arg == "--events") {
      a.run.keep_events = a.output.events = true;
    } else if (arg == "--quiet") {
      a.quiet = true;
    } else if (auto e = take_scenario(arg, a.scenario)) {
      return e;
    }
  }
  if (a.scenario.empty()) return "run needs a SCENARIO.json";
  return std::nullopt;
}

// --trials LIST: indexes and ranges (0,5,10-14) of the plan's trials; the plan keeps only those.
std::optional<std::string> select_trials(const std::string& list, sim::ExperimentPlan& plan) {
  const auto n = static_cast<std::uint32_t>(plan.trials.size());
  std::set<std::uint32_t> chosen;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto dash = item.find('-');
    const auto lo = parse_count(item.substr(0, dash), 0, n - 1);
    const auto hi = dash == std::string::npos ? lo : parse_count(item.substr(dash + 1), 0, n - 1);
    if (!lo || !hi || *hi < *lo)
      return "--trials: '" + item + "' is not a trial index or range within 0.." +
             std::to_string(n - 1) + " (the plan has " + std::to_string(n) + " trials)";
    for (std::uint32_t i = *lo; i <= *hi; ++i) chosen.insert(i);
  }
  if (chosen.empty()) return "--trials needs at least one index";
  std::erase_if(plan.trials, [&](const sim::Trial& t) { return !chosen.count(t.index); });
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

// The answer in words: every sweep point when there are at most 3, else the first and the last.
void print_answer_text(const sim::ExperimentPlan& plan,
                       const std::vector<sim::TrialResult>& results) {
  const auto points = sim::answer_points(plan.points);
  if (points.size() < plan.points)
    std::printf("\n(the answer at the first and the last of %u sweep points; summary.csv has "
                "them all)\n", plan.points);
  for (std::uint32_t p : points)
    std::printf("\n%s", sim::to_text(sim::answer(plan, results, p)).c_str());
}

int run(const std::vector<std::string>& args) {
  RunArgs a;
  if (auto e = parse_run_args(args, a)) return usage_error(*e);
  const auto scenario = load_for_command(a.scenario, a.sets, [&](nlohmann::json& doc) {
    if (a.repetitions) doc["experiment"]["repetitions"] = *a.repetitions;
  });
  if (!scenario) return kUsage;
  sim::ExperimentPlan plan = sim::plan_experiment(*scenario);
  if (!a.trials.empty())
    if (auto e = select_trials(a.trials, plan)) return usage_error(*e);
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
      // Drawing takes seconds for a big sweep (a waterfall and a connections chart per mode in
      // three formats): say so, or the finished progress bar looks like a hang.
      if (!a.quiet) std::fprintf(stderr, "drawing charts into %s/charts ...\n", a.out.c_str());
      const auto files = satlink::cli::write_charts(a.out + "/charts", *scenario, plan, results, a.charts);
      if (!a.quiet) std::fprintf(stderr, "wrote %zu charts to %s/charts\n", files.size(), a.out.c_str());
    }
#endif
  } catch (const std::exception& e) {
    std::cerr << "satlink-cli: " << e.what() << "\n";
    return kRunFailed;
  }
  print_answer(results);
  print_answer_text(plan, results);
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
  raise_open_file_limit();
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
