// The files of a run: results.csv (a tidy row per trial), summary.csv (aggregates per mode and
// sweep point), requests.csv (a row per request), results.json (scenario, plan, results,
// versions), events.jsonl (optional), and one HAR 1.2 file per trial. Every file is written to a
// temporary name and renamed, so a reader never sees half a file.
#pragma once

#include <string>
#include <vector>

#include "satlink/simulator/experiment.hpp"

namespace satlink::simulator {

struct OutputOptions {
  bool csv = true;
  bool json = true;
  bool har = true;
  bool events = false;  // needs RunOptions::keep_events
};

// Writes into `dir` (created if missing). Returns the files written; throws std::runtime_error
// naming the file and the reason when one cannot be written.
std::vector<std::string> write_results(const std::string& dir, const Scenario& scenario,
                                       const ExperimentPlan& plan,
                                       const std::vector<TrialResult>& results,
                                       const OutputOptions& options);

std::string results_csv(const Scenario& s, const ExperimentPlan& plan,
                        const std::vector<TrialResult>& results);
std::string summary_csv(const Scenario& s, const ExperimentPlan& plan,
                        const std::vector<TrialResult>& results);
std::string requests_csv(const std::vector<TrialResult>& results);
nlohmann::json results_json(const Scenario& s, const ExperimentPlan& plan,
                            const std::vector<TrialResult>& results);
nlohmann::json trial_har(const Scenario& s, const TrialResult& r);

// Writes `content` to `path` through a temporary file and a rename (throws on failure).
void write_file_atomically(const std::string& path, const std::string& content);

// One summary row: a metric aggregated over the repetitions of one mode at one sweep point.
struct SummaryRow {
  Mode mode;
  std::uint32_t point = 0;
  std::vector<nlohmann::json> sweep_values;
  std::string metric;
  Aggregate value;
};
std::vector<SummaryRow> summarize(const std::vector<TrialResult>& results);

}  // namespace satlink::simulator
