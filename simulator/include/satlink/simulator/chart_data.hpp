// What the charts show, computed without Qt from a run's results: the app's chart library only
// draws these. (Wireshark's lesson: data and aggregation below, drawing on top.)
#pragma once

#include <string>
#include <vector>

#include "satlink/simulator/experiment.hpp"

namespace satlink::simulator {

// Page-load time per mode at one sweep point: measured (mean and 95 % interval over the
// repetitions) beside the two predictions.
struct ModeBar {
  Mode mode;
  Aggregate load_ms;
  double predicted_tcp_ms = 0;
  double predicted_seed_ms = 0;
};
std::vector<ModeBar> comparison(const std::vector<TrialResult>& results, std::uint32_t point);

// Where the page-load time went, per mode (means over repetitions). Set-up on the critical path
// comes from the links' spans; the rest is attributed to TLS, waiting and transfer in proportion
// to the requests' ssl, wait and receive times (docs/charts.md).
struct Breakdown {
  Mode mode;
  double client_setup_ms = 0, server_setup_ms = 0, tls_ms = 0, waiting_ms = 0, transfer_ms = 0;
};
std::vector<Breakdown> breakdown(const std::vector<TrialResult>& results, std::uint32_t point);

// One line of the sweep chart: a mode (and, with two axes, a value of the second axis) over the
// first axis.
struct SweepLine {
  Mode mode;
  std::string label;        // "keep-alive" or "keep-alive, client.users=10"
  std::vector<double> x;    // the first axis's value (numeric), or its index when not numeric
  std::vector<Aggregate> measured_ms;
  std::vector<double> predicted_tcp_ms;
};
struct Sweep {
  std::string x_label;                // the first axis's path
  std::vector<std::string> x_ticks;   // the values as written (for non-numeric axes)
  bool numeric = true;
  std::vector<SweepLine> lines;
};
Sweep sweep(const ExperimentPlan& plan, const std::vector<TrialResult>& results);

// One page load: each request's phases from its queue time, ms from the first request.
struct WaterfallRow {
  std::string label;  // "#3 /css/0.css (c2, reused)"
  double start_ms = 0;
  double blocked_ms = 0, connect_ms = 0, ssl_ms = 0, send_ms = 0, wait_ms = 0, receive_ms = 0;
  bool failed = false;
};
std::vector<WaterfallRow> waterfall(const TrialResult& r);

// The trial a per-mode chart shows: the first repetition of `point` for `mode` that succeeded
// (or the first at all); null when the mode did not run.
const TrialResult* representative(const std::vector<TrialResult>& results, Mode mode,
                                  std::uint32_t point);

}  // namespace satlink::simulator
