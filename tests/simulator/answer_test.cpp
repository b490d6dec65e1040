// The answer in plain language: hand-made results with exact means and intervals give exact
// sentences (units, percentages, the noise rule, caveats, missing modes); one tiny real run says
// that client keep-alive made the page faster.
#include "satlink/simulator/answer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <sstream>
#include <string>
#include <vector>

namespace satlink::simulator {
namespace {

const std::string kMinus = "\u2212";

TrialResult trial(Mode m, std::uint32_t repetition, double load_ms) {
  TrialResult r;
  r.mode = m;
  r.repetition = repetition;
  r.metrics.page_load_ms = load_ms;
  r.metrics.users_ok = 1;
  return r;
}

// Three repetitions of a mode with the given page loads.
std::vector<TrialResult> three(Mode m, double a, double b, double c) {
  return {trial(m, 0, a), trial(m, 1, b), trial(m, 2, c)};
}

std::vector<TrialResult> join(std::vector<std::vector<TrialResult>> parts) {
  std::vector<TrialResult> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  for (std::size_t i = 0; i < out.size(); ++i) out[i].index = static_cast<std::uint32_t>(i);
  return out;
}

// A plan whose trials are exactly the results (plus `missing` more at point 0).
ExperimentPlan plan_of(const std::vector<TrialResult>& results, std::size_t missing = 0) {
  ExperimentPlan plan;
  for (const TrialResult& r : results) {
    Trial t;
    t.index = r.index;
    t.mode = r.mode;
    t.point = r.point;
    t.repetition = r.repetition;
    t.sweep_values = r.sweep_values;
    plan.trials.push_back(t);
  }
  for (std::size_t i = 0; i < missing; ++i) plan.trials.push_back(Trial{});
  return plan;
}

TEST(Answer, ClientKeepAliveCutIsSaidInSecondsAndPercent) {
  const auto results = join(
      {three(Mode::keep_alive, 4850, 4860, 4870), three(Mode::client_close, 7260, 7270, 7280)});
  const Answer a = answer(plan_of(results), results, 0);
  ASSERT_EQ(a.findings.size(), 1u);
  EXPECT_EQ(a.findings[0],
            "Client keep-alive cut page load by 2.41 s, from 7.27 s to 4.86 s "
            "(keep-alive vs client-close: " +
                kMinus + "33 %).");
  EXPECT_EQ(a.point, "");
  ASSERT_EQ(a.caveats.size(), 1u);
  EXPECT_EQ(a.caveats[0],
            "Not compared (no successful trials of the modes it needs here): server keep-alive "
            "(needs keep-alive and server-close, or client-close and close); the proxy against "
            "no proxy (needs keep-alive and no-proxy).");
}

TEST(Answer, TheSecondPairOfAComparisonIsNoted) {
  const auto results =
      join({three(Mode::keep_alive, 4850, 4860, 4870), three(Mode::client_close, 7260, 7270, 7280),
            three(Mode::server_close, 4850, 4860, 4870), three(Mode::close, 4850, 4860, 4870)});
  const Answer a = answer(plan_of(results), results, 0);
  ASSERT_FALSE(a.findings.empty());
  EXPECT_EQ(a.findings[0],
            "Client keep-alive cut page load by 2.41 s, from 7.27 s to 4.86 s "
            "(keep-alive vs client-close: " +
                kMinus + "33 %; server-close vs close: no difference).");
}

TEST(Answer, OverlappingIntervalsAreWithinTheNoiseAndTheOriginCostComesFirst) {
  auto ka = three(Mode::keep_alive, 4850, 4860, 4870);
  auto sc = three(Mode::server_close, 4870, 4880, 4890);  // intervals ±24.8 ms: they overlap
  const double ka_mean[] = {5.9, 6.0, 6.1}, sc_mean[] = {1.1, 1.2, 1.3};
  const double ka_idle[] = {28, 29, 30}, sc_idle[] = {0.2, 0.3, 0.4};
  for (int i = 0; i < 3; ++i) {
    ka[i].metrics.origin_connections = 6;
    sc[i].metrics.origin_connections = 31;
    ka[i].metrics.origin_peak_connections = sc[i].metrics.origin_peak_connections = 6;
    ka[i].metrics.origin_mean_connections = ka_mean[i];
    sc[i].metrics.origin_mean_connections = sc_mean[i];
    ka[i].metrics.origin_idle_connection_seconds = ka_idle[i];
    sc[i].metrics.origin_idle_connection_seconds = sc_idle[i];
    ka[i].metrics.origin_peak_memory_bytes = 9216;
    sc[i].metrics.origin_peak_memory_bytes = 3174.4;
  }
  const auto results = join({ka, sc});
  const Answer a = answer(plan_of(results), results, 0);
  ASSERT_EQ(a.findings.size(), 2u);
  EXPECT_EQ(a.findings[0],
            "Server keep-alive, at the origin (keep-alive vs server-close), opened 6 connections "
            "instead of 31, had at most 6 open at once either way, had 6 open on average instead "
            "of 1.2, held 29 idle connection-seconds instead of 0.3 and peaked at 9.0 KiB of "
            "connection memory instead of 3.1 KiB.");
  EXPECT_EQ(a.findings[1],
            "Server keep-alive made no measurable difference to page load, within the noise "
            "(keep-alive vs server-close: 4.86 s vs 4.88 s, the 95 % intervals overlap).");
}

TEST(Answer, OneConnectionIsSingular) {
  auto results = join(
      {three(Mode::keep_alive, 4850, 4860, 4870), three(Mode::server_close, 4850, 4860, 4870)});
  for (auto& r : results) {
    const bool ka = r.mode == Mode::keep_alive;
    r.metrics.origin_connections = ka ? 1 : 31;
    r.predicted_tcp.page_load_ms = 4850;
    r.predicted_tcp.server_connections = ka ? 1 : 31;
  }
  const Answer a = answer(plan_of(results), results, 0);
  ASSERT_EQ(a.findings.size(), 2u);
  EXPECT_EQ(a.findings[0].rfind("Server keep-alive, at the origin (keep-alive vs server-close), "
                                "opened 1 connection instead of 31, ",
                                0),
            0u)
      << a.findings[0];
  // The seed model was not predicted (0): only the tcp model speaks.
  EXPECT_EQ(a.predicted, std::vector<std::string>{
                             "Server keep-alive (keep-alive vs server-close): the tcp model "
                             "predicts 4.85 s either way and 1 origin connection instead of 31."});
}

TEST(Answer, ASlowerModeIsCalledSlower) {
  const auto results =
      join({three(Mode::keep_alive, 990, 1000, 1010), three(Mode::no_proxy, 940, 950, 960)});
  const Answer a = answer(plan_of(results), results, 0);
  ASSERT_FALSE(a.findings.empty());
  EXPECT_EQ(a.findings[0],
            "Going through the proxy made page load slower by 50 ms, from 950 ms "
            "to 1.00 s (keep-alive vs no-proxy: +5 %).");
}

TEST(Answer, ValuesThatPrintAlikeGetMoreDecimals) {
  // Identical repetitions: zero-width intervals, so 3 ms is a measured difference.
  const auto results = join(
      {three(Mode::keep_alive, 4860, 4860, 4860), three(Mode::server_close, 4863, 4863, 4863)});
  const Answer a = answer(plan_of(results), results, 0);
  ASSERT_FALSE(a.findings.empty());
  EXPECT_EQ(a.findings[0],
            "Server keep-alive cut page load by 3.0 ms, from 4.863 s to 4.860 s "
            "(keep-alive vs server-close: " +
                kMinus + "0.06 %).");
}

TEST(Answer, TheSweepPointOpensTheFirstSentenceAndPredictionsFollow) {
  auto results = join(
      {three(Mode::keep_alive, 4850, 4860, 4870), three(Mode::client_close, 7260, 7270, 7280)});
  for (auto& r : results) {
    r.point = 1;
    r.sweep_values = {600, "tcp"};
    const bool ka = r.mode == Mode::keep_alive;
    r.predicted_tcp.page_load_ms = ka ? 4850 : 7260;
    r.predicted_seed.page_load_ms = ka ? 5450 : 9060;
  }
  ExperimentPlan plan = plan_of(results);
  plan.sweep_paths = {"client_link.rtt_ms", "client_link.setup"};
  plan.points = 2;
  const Answer a = answer(plan, results, 1);
  EXPECT_EQ(a.point, "client_link.rtt_ms=600, client_link.setup=tcp");
  ASSERT_FALSE(a.findings.empty());
  EXPECT_EQ(a.findings[0].rfind("At client_link.rtt_ms=600, client_link.setup=tcp, client "
                                "keep-alive cut page load by 2.41 s",
                                0),
            0u)
      << a.findings[0];
  ASSERT_EQ(a.predicted.size(), 1u);
  EXPECT_EQ(a.predicted[0],
            "Client keep-alive (keep-alive vs client-close): the tcp model "
            "predicts 4.85 s vs 7.26 s (" +
                kMinus +
                "33 %), the seed model "
                "5.45 s vs 9.06 s (" +
                kMinus + "40 %).");
  EXPECT_EQ(answer(plan, results, 0).findings.front(),
            "No page loaded here, so there is nothing to compare.");
}

TEST(Answer, FailedMissingAndSingleTrialsAreCaveats) {
  auto results = join({{trial(Mode::keep_alive, 0, 4860), trial(Mode::keep_alive, 1, -1),
                        trial(Mode::close, 0, 7270)}});
  results[1].error = "trial timed out";
  const Answer a = answer(plan_of(results, 1), results, 0);
  ASSERT_EQ(a.findings.size(), 1u);
  EXPECT_EQ(a.findings[0],
            "Keep-alive on both sides cut page load by 2.41 s, from 7.27 s to "
            "4.86 s (keep-alive vs close: " +
                kMinus + "33 %).");
  const std::vector<std::string> caveats{
      "Client and server keep-alive are not told apart: that needs client-close or server-close "
      "beside keep-alive and close.",
      "1 of 3 trials here failed and are left out (keep-alive 1; see results.csv).",
      "1 of 4 planned trials here did not run (cancelled or not selected).",
      "Only one page load of keep-alive, close here: no 95 % interval, so differences are "
      "reported as measured, not judged against the noise.",
      "Not compared (no successful trials of the modes it needs here): the proxy against no "
      "proxy (needs keep-alive and no-proxy)."};
  EXPECT_EQ(a.caveats, caveats);
}

TEST(Answer, ALoneModeIsReportedAsMeasured) {
  auto results = join({three(Mode::keep_alive, 4850, 4860, 4870)});
  results[2].metrics.users_failed = 1;
  const Answer a = answer(plan_of(results), results, 0);
  EXPECT_EQ(a.findings, std::vector<std::string>{"Only keep-alive ran here: page load 4.86 s."});
  ASSERT_EQ(a.caveats.size(), 2u);
  EXPECT_EQ(a.caveats[0],
            "In 1 trial(s) some users' pages failed to load; page-load means leave them out.");
  EXPECT_NE(a.caveats[1].find("client keep-alive (needs"), std::string::npos) << a.caveats[1];
  EXPECT_TRUE(a.predicted.empty());
}

TEST(Answer, SameResultsSameText) {
  const auto results =
      join({three(Mode::keep_alive, 4850, 4860, 4870), three(Mode::close, 7260, 7270, 7280),
            three(Mode::no_proxy, 4840, 4850, 4860)});
  const auto plan = plan_of(results);
  EXPECT_EQ(to_text(answer(plan, results, 0)), to_text(answer(plan, results, 0)));
}

TEST(Answer, UnitsReadAsPeopleWriteThem) {
  EXPECT_EQ(format_duration(850), "850 ms");
  EXPECT_EQ(format_duration(2.44), "2.4 ms");
  EXPECT_EQ(format_duration(4860), "4.86 s");
  EXPECT_EQ(format_duration(11600), "11.6 s");
  EXPECT_EQ(format_duration(125000), "125 s");
  EXPECT_EQ(format_duration(4860, 1), "4.860 s");
  EXPECT_EQ(format_duration(-20), kMinus + "20 ms");
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(9216), "9.0 KiB");
  EXPECT_EQ(format_bytes(20 * 1024), "20 KiB");
  EXPECT_EQ(format_bytes(3.5 * 1024 * 1024), "3.5 MiB");
  EXPECT_EQ(format_percent(-33.15), kMinus + "33 %");
  EXPECT_EQ(format_percent(0.4), "+0.4 %");
  EXPECT_EQ(format_percent(-0.04), kMinus + "0.04 %");
  EXPECT_EQ(format_percent(0), "0 %");
  EXPECT_EQ(format_number(6.0000001), "6");
  EXPECT_EQ(format_number(5.93), "5.93");
  EXPECT_EQ(format_number(12.34), "12.3");
  EXPECT_EQ(format_number(0.3), "0.3");
  EXPECT_EQ(format_number(0.00412), "0.00412");
  EXPECT_EQ(format_number(0), "0");
}

TEST(Answer, TextIsParagraphsWrappedWithoutOrphanedUnits) {
  Answer a;
  a.findings = {
      "Client keep-alive cut page load by 2.41 s, from 7.27 s to 4.86 s (" + kMinus + "33 %).",
      "Second."};
  a.predicted = {"The tcp model predicts 4.85 s vs 7.26 s."};
  a.caveats = {"One caveat."};
  const std::string text = to_text(a, 24);
  EXPECT_EQ(text, "Client keep-alive cut\npage load by 2.41 s,\nfrom 7.27 s to 4.86 s\n(" + kMinus +
                      "33 %). Second.\n\nPredicted: The tcp model\npredicts 4.85 s vs\n7.26 s.\n\n"
                      "Caveats: One caveat.\n");
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const std::string first = line.substr(0, line.find_first_of(" ,.;)"));
    for (const char* unit : {"%", "s", "ms"}) EXPECT_NE(first, unit) << "a line starts with a unit";
  }
}

TEST(Answer, TheCliSummarizesAllOfFewPointsElseTheEnds) {
  EXPECT_EQ(answer_points(0), std::vector<std::uint32_t>{});
  EXPECT_EQ(answer_points(1), std::vector<std::uint32_t>{0});
  EXPECT_EQ(answer_points(3), (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(answer_points(8), (std::vector<std::uint32_t>{0, 7}));
}

// A real run: 100 ms client link, two connections per host, a page of 6 resources. Closing the
// client side pays a set-up per request; the answer must say keep-alive made the page faster.
TEST(AnswerEndToEnd, ARealRunSaysClientKeepAliveMadeThePageFaster) {
  auto r = load_scenario(nlohmann::json::parse(R"({"satlink_scenario": 1,
    "client_link": {"rtt_ms": 100}, "server_link": {"rtt_ms": 2},
    "page": {"generate": {"count": 6, "min_bytes": 2000, "max_bytes": 4000}},
    "client": {"connections_per_host": 2},
    "experiment": {"modes": ["keep-alive", "client-close"], "repetitions": 2}})"));
  ASSERT_TRUE(r.ok()) << proxycore::format_errors(r.errors);
  const ExperimentPlan plan = plan_experiment(r.scenario);
  std::atomic<bool> cancel{false};
  const auto results = run_experiment(plan, RunOptions{}, nullptr, cancel);
  ASSERT_EQ(results.size(), 4u);
  for (const auto& t : results) ASSERT_EQ(t.error, "") << t.label;
  const Answer a = answer(plan, results, 0);
  std::printf("%s", to_text(a).c_str());
  ASSERT_FALSE(a.findings.empty());
  EXPECT_EQ(a.findings[0].rfind("Client keep-alive cut page load by ", 0), 0u) << a.findings[0];
  ASSERT_FALSE(a.predicted.empty());
  EXPECT_EQ(a.predicted[0].rfind("Client keep-alive (keep-alive vs client-close): the tcp model "
                                 "predicts ",
                                 0),
            0u)
      << a.predicted[0];
}

}  // namespace
}  // namespace satlink::simulator
