// Runs an experiment plan: trials side by side on threads (they mostly wait), each measured from
// its event log and predicted by the analytic model. Progress and cancellation through one
// callback API that the CLI and the GUI share; a failing trial is recorded and the run goes on.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "satlink/simulator/analytic.hpp"
#include "satlink/simulator/metrics.hpp"
#include "satlink/simulator/plan.hpp"
#include "satlink/simulator/replay.hpp"

namespace satlink::simulator {

struct TrialResult {
  std::uint32_t index = 0;
  Mode mode = Mode::keep_alive;
  std::uint32_t point = 0;
  std::vector<nlohmann::json> sweep_values;
  std::uint32_t repetition = 0;
  std::uint64_t seed = 0;
  std::string label;
  TrialMetrics metrics;
  std::vector<RequestMetrics> requests;
  std::vector<PageLoad> loads;
  std::vector<ReplayRequest> targets;  // what each request id stands for (URLs for HAR)
  OccupancySeries series;
  Prediction predicted_seed;
  Prediction predicted_tcp;
  std::string error;  // empty when the trial succeeded
  bool cancelled = false;
  std::int64_t wall_offset_ns = 0;
  double cpu_ms = 0;  // the trial's CPU time (its chain runs on one thread); for the scheduler
  std::vector<LogEvent> events;  // only with RunOptions::keep_events
};

// A result that says which trial it is (index, mode, point, sweep values, repetition, seed,
// label) and nothing else yet: what measure() fills, and what a failed trial reports.
TrialResult result_of(const Trial& t);

struct RunOptions {
  std::uint32_t parallelism = 0;  // 0: the scenario's, else automatic (16 per core, 16..64)
  bool keep_events = false;
};

struct Progress {
  std::size_t done = 0;
  std::size_t total = 0;
  std::size_t failed = 0;
};

// Called from worker threads, one call at a time, after each trial (with its result).
using ProgressFn = std::function<void(const Progress&, const TrialResult&)>;

std::uint32_t effective_parallelism(const ExperimentPlan& plan, const RunOptions& options);

// Blocks until every trial ran or `cancel` became true (then the running trials stop within a
// second and the rest are skipped). Trials start longest predicted first, at most
// effective_parallelism() at a time and fewer while CPU-bound ones (short links) run; results
// are in plan order; skipped trials are absent.
std::vector<TrialResult> run_experiment(const ExperimentPlan& plan, const RunOptions& options,
                                        const ProgressFn& progress,
                                        const std::atomic<bool>& cancel);

// The analytic model's view of one trial.
PredictionInput prediction_input(const Trial& trial);

}  // namespace satlink::simulator
