// The engine's accuracy on real sockets: a deterministic link measures what the `tcp` model
// predicts, a cancelled run lets go of everything at once, and trials run side by side measure
// what they measure alone.
#include "satlink/simulator/experiment.hpp"
#include "satlink/simulator/metrics.hpp"

#include "../support/listening_sockets.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

namespace satlink::simulator {
namespace {

// Client link 100 ms RTT, server link 10 ms, no rate limit, no jitter, no loss, no slow start:
// every millisecond of a page load is a delay the model knows.
Scenario deterministic_scenario(std::uint32_t resources) {
  auto doc = nlohmann::json::parse(R"({"satlink_scenario": 1,
    "client_link": {"rtt_ms": 100},
    "server_link": {"rtt_ms": 10},
    "page": {"generate": {"min_bytes": 2000, "max_bytes": 20000}},
    "experiment": {"repetitions": 1}})");
  doc["page"]["generate"]["count"] = resources;
  auto r = load_scenario(doc);
  EXPECT_TRUE(r.ok()) << proxycore::format_errors(r.errors);
  return r.scenario;
}

// The no-proxy baseline is measured ~R_b (10 ms) short per set-up on the critical path (two
// here: the HTML's connection, then the others'), the known gap of docs/scenarios.md; every mode
// measures ~1 % over the model (a fraction of a ms per link crossing: timers, relays, parsing).
// Both stay well inside the tolerance at these RTTs.
double tolerance_ms(double predicted) {
  return std::max(0.05 * predicted, 15.0);
}

TEST(EngineAccuracy, DeterministicLinkMeasuresTheTcpPredictionInEveryMode) {
  const ExperimentPlan plan = plan_experiment(deterministic_scenario(15));
  ASSERT_EQ(plan.trials.size(), 5u);
  RunOptions options;
  options.parallelism = 1;  // alone: the accuracy of the emulation, not of a loaded machine
  std::atomic<bool> cancel{false};
  const auto results = run_experiment(plan, options, nullptr, cancel);
  ASSERT_EQ(results.size(), 5u);
  for (const TrialResult& r : results) {
    ASSERT_EQ(r.error, "") << r.label;
    const double predicted =
        predict(prediction_input(plan.trials[r.index]), PredictionModel::tcp).page_load_ms;
    const double measured = r.metrics.page_load_ms;
    std::printf("  %-13s measured %7.1f ms  predicted (tcp) %7.1f ms  %+6.1f ms (%+.1f %%)\n",
                std::string(to_string(r.mode)).c_str(), measured, predicted, measured - predicted,
                100 * (measured - predicted) / predicted);
    EXPECT_NEAR(measured, predicted, tolerance_ms(predicted)) << r.label;
  }
}

// What a browser would show: a new connection's first request has connect ~1 RTT of the client
// link (100 ms) and wait ~1 RTT + the server side, not connect ~0 and wait ~2 RTT. Only the
// attribution moves: the same log without the client link's events gives the same spans.
TEST(EngineAccuracy, NewConnectionsShowTheHandshakeInConnect) {
  const ExperimentPlan plan = plan_experiment(deterministic_scenario(6));
  RunOptions options;
  options.parallelism = 1;
  options.keep_events = true;
  std::atomic<bool> cancel{false};
  const auto results = run_experiment(plan, options, nullptr, cancel);
  ASSERT_EQ(results.size(), plan.trials.size());
  constexpr double kRtt = 100;
  for (const TrialResult& r : results) {
    ASSERT_EQ(r.error, "") << r.label;
    std::vector<LogEvent> without_link = r.events;
    std::erase_if(without_link,
                  [](const LogEvent& e) { return e.component == Component::client_link; });
    const auto raw = request_metrics(without_link);
    ASSERT_EQ(raw.size(), r.requests.size()) << r.label;
    std::size_t new_connections = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const RequestMetrics& q = r.requests[i];
      SCOPED_TRACE(r.label + " request " + std::to_string(q.request));
      ASSERT_EQ(raw[i].request, q.request);
      EXPECT_NEAR(q.time_ms(), raw[i].time_ms(), 1e-6);
      EXPECT_NEAR(q.connect_ms - raw[i].connect_ms, raw[i].wait_ms - q.wait_ms, 1e-6);
      if (q.reused || q.connect_ms < 0) continue;
      ++new_connections;
      std::printf("  %-13s #%llu connect %6.1f ms  wait %6.1f ms  (as measured: %5.1f, %6.1f)\n",
                  std::string(to_string(r.mode)).c_str(),
                  static_cast<unsigned long long>(q.request), q.connect_ms, q.wait_ms,
                  raw[i].connect_ms, raw[i].wait_ms);
      EXPECT_NEAR(q.connect_ms, kRtt, 5 + 0.1 * kRtt);
      EXPECT_GE(q.wait_ms, kRtt - 5);
      EXPECT_LE(q.wait_ms, kRtt + 50);  // + the server link (10 ms RTT) and its set-up
    }
    EXPECT_GT(new_connections, 0u) << r.label;
    EXPECT_DOUBLE_EQ(trial_metrics(without_link).page_load_ms, r.metrics.page_load_ms);
  }
}


TEST(EngineAccuracy, ACancelledRunStopsWithinASecondAndLeavesNoListeningSocket) {
  Scenario s = deterministic_scenario(12);
  s.source["client_link"]["up"]["delay_ms"] = 2000;  // a trial takes ~10 s: cancel is mid-load
  s.source["client_link"]["down"]["delay_ms"] = 2000;
  s.source["experiment"]["repetitions"] = 2;
  s = load_scenario(s.source).scenario;
  const ExperimentPlan plan = plan_experiment(s);
  ASSERT_EQ(plan.trials.size(), 10u);
  const auto before = test::own_listening_sockets();

  RunOptions options;
  options.parallelism = 4;
  std::atomic<bool> cancel{false};
  std::atomic<std::int64_t> cancelled_at{0};
  std::size_t listening_during = 0;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    listening_during = test::own_listening_sockets().size();
    cancelled_at = std::chrono::steady_clock::now().time_since_epoch().count();
    cancel = true;
  });
  const auto results = run_experiment(plan, options, nullptr, cancel);
  const auto returned_at = std::chrono::steady_clock::now().time_since_epoch().count();
  canceller.join();
  const std::chrono::nanoseconds stop_time(returned_at - cancelled_at.load());
  std::printf("  run returned %.0f ms after the cancel\n", stop_time.count() / 1e6);
  EXPECT_LT(stop_time, std::chrono::seconds(1));
  // The testbeds' listeners were seen while the trials ran (3 or 4 each): the check below sees.
  EXPECT_GE(listening_during, before.size() + 4 * 3);
  EXPECT_TRUE(results.empty());  // every trial was still loading: none is reported
  EXPECT_EQ(test::own_listening_sockets(), before);
}

// Per trial: the same plan run alone and four at a time on this (2-core) machine.
TEST(EngineAccuracy, ConcurrentTrialsMeasureWhatIsolatedOnesMeasure) {
  Scenario s = deterministic_scenario(12);
  s.source["experiment"]["repetitions"] = 2;
  s = load_scenario(s.source).scenario;
  const ExperimentPlan plan = plan_experiment(s);
  std::atomic<bool> cancel{false};
  RunOptions alone;
  alone.parallelism = 1;
  RunOptions together;
  together.parallelism = 4;
  const auto isolated = run_experiment(plan, alone, nullptr, cancel);
  const auto concurrent = run_experiment(plan, together, nullptr, cancel);
  ASSERT_EQ(isolated.size(), plan.trials.size());
  ASSERT_EQ(concurrent.size(), plan.trials.size());
  double worst = 0;
  for (std::size_t i = 0; i < isolated.size(); ++i) {
    ASSERT_EQ(isolated[i].error, "") << isolated[i].label;
    ASSERT_EQ(concurrent[i].error, "") << concurrent[i].label;
    const double a = isolated[i].metrics.page_load_ms, b = concurrent[i].metrics.page_load_ms;
    worst = std::max(worst, std::abs(b - a));
    // Each trial's timers share two cores with three other trials: a handler that fires late
    // by a scheduling slice delays every later event of the same load. A few ms per serial
    // round trip of the page (~8 here) is what a loaded machine adds; more is a fault.
    EXPECT_NEAR(b, a, std::max(0.05 * a, 25.0)) << isolated[i].label;
  }
  std::printf("  max deviation, 4 at a time vs alone: %.1f ms over %zu trials\n", worst,
              isolated.size());
}

}  // namespace
}  // namespace satlink::simulator
