// Scenario files: defaults, presets under explicit fields, every error with its path and reason
// (all at once), overrides by path, sweeps, and every shipped scenario loads.
#include "satlink/simulator/plan.hpp"
#include "satlink/simulator/scenario.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace satlink::simulator {
namespace {

using nlohmann::json;

std::string errors_of(const ScenarioResult& r) {
  return proxycore::format_errors(r.errors);
}

ScenarioResult load(const std::string& text) { return load_scenario(json::parse(text)); }

TEST(Scenario, MinimalFileHasTheDefaults) {
  auto r = load(R"({"satlink_scenario": 1})");
  ASSERT_TRUE(r.ok()) << errors_of(r);
  const Scenario& s = r.scenario;
  EXPECT_EQ(s.client.connections_per_host, 6u);
  EXPECT_EQ(s.experiment.modes.size(), 5u);
  EXPECT_EQ(s.experiment.repetitions, 3u);
  EXPECT_EQ(s.client_link.config.setup, SetupModel::tcp);
  EXPECT_EQ(s.origin.keep_alive.timeout_ms, 5000);
  EXPECT_TRUE(s.proxy.client.keep_alive);
}

TEST(Scenario, PresetFirstThenExplicitFields) {
  auto r = load(R"({"satlink_scenario": 1,
    "client_link": {"preset": "geo", "down": {"delay_ms": 100.5}, "setup": "seed"},
    "server_link": {"preset": "lan", "rtt_ms": 40}})");
  ASSERT_TRUE(r.ok()) << errors_of(r);
  const auto& c = r.scenario.client_link;
  EXPECT_EQ(c.preset, "geo");
  EXPECT_EQ(c.config.up.delay_ms, 300);
  EXPECT_EQ(c.config.down.delay_ms, 100.5);
  EXPECT_EQ(c.config.down.rate_bps, 25e6);
  EXPECT_EQ(c.config.setup, SetupModel::seed);
  EXPECT_EQ(r.scenario.server_link.config.up.delay_ms, 20);
  EXPECT_EQ(r.scenario.server_link.config.down.rate_bps, 1e9);
}

TEST(Scenario, ErrorNamesThePathAndTheReason) {
  auto r = load(R"({"satlink_scenario": 1, "client_link": {"down": {"delay_ms": "fast"}}})");
  ASSERT_EQ(r.errors.size(), 1u) << errors_of(r);
  EXPECT_EQ(r.errors[0].path, "client_link.down.delay_ms");
  EXPECT_EQ(r.errors[0].reason, "must be a number in 0..3600000, got \"fast\"");
}

TEST(Scenario, AllErrorsAtOnceIncludingTypos) {
  auto r = load(R"({"satlink_scenario": 1,
    "client_link": {"preset": "mars", "dwon": {}},
    "client": {"connections_per_host": 0, "http_version": "2"},
    "origin": {"memory_model": "iis", "keep_alive": "forever"},
    "experiment": {"modes": ["keep-alive", "keep-alive", "turbo"], "repetitions": 0}})");
  std::set<std::string> paths;
  for (const auto& e : r.errors) paths.insert(e.path);
  EXPECT_EQ(paths, (std::set<std::string>{"client_link.preset", "client_link.dwon",
                                          "client.connections_per_host", "client.http_version",
                                          "origin.memory_model", "origin.keep_alive",
                                          "experiment.modes[1]", "experiment.modes[2]",
                                          "experiment.repetitions"}))
      << errors_of(r);
}

TEST(Scenario, VersionIsRequiredAndChecked) {
  EXPECT_EQ(load("{}").errors.at(0).path, "satlink_scenario");
  auto r = load(R"({"satlink_scenario": 2})");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].reason, "must be 1 (the only version this build reads), got 2");
  EXPECT_FALSE(load("[]").ok());
}

TEST(Scenario, ProxySectionIsTheDaemonsShapeWithoutBackends) {
  auto r = load(R"({"satlink_scenario": 1, "proxy": {"timeouts": {"http_keep_alive_ms": 7000},
    "server": {"reuse": "always"}}})");
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(r.scenario.proxy.timeouts.http_keep_alive.count(), 7000);
  EXPECT_EQ(r.scenario.proxy.server.reuse, proxycore::ReusePolicy::always);
  auto bad = load(R"({"satlink_scenario": 1, "proxy": {"backends": [], "client": {"port": "x"}}})");
  std::set<std::string> paths;
  for (const auto& e : bad.errors) paths.insert(e.path);
  EXPECT_EQ(paths, (std::set<std::string>{"proxy.backends", "proxy.client.port"})) << errors_of(bad);
}

TEST(Scenario, PageResourcesAreCheckedAndGeneratorIsDeterministic) {
  auto r = load(R"({"satlink_scenario": 1, "page": {"resources": [
    {"path": "/a.css", "type": "text/css", "size": 10},
    {"path": "/a.css", "type": "text/css", "size": 10},
    {"path": "/b.js", "size": 5}]}})");
  std::set<std::string> paths;
  for (const auto& e : r.errors) paths.insert(e.path);
  EXPECT_TRUE(paths.contains("page.resources[2].type")) << errors_of(r);
  EXPECT_TRUE(paths.contains("page")) << errors_of(r);  // the duplicate, from the page's validation

  auto g = load(R"({"satlink_scenario": 1, "page": {"generate": {"count": 30, "min_bytes": 1000,
    "max_bytes": 20000}}})");
  ASSERT_TRUE(g.ok()) << errors_of(g);
  ASSERT_EQ(g.scenario.page.resources.size(), 30u);
  EXPECT_EQ(g.scenario.page.resources[0].content_type, "text/css");
  EXPECT_EQ(g.scenario.page.resources[29].content_type, "image/png");
  for (const auto& res : g.scenario.page.resources) {
    EXPECT_GE(res.size, 1000u);
    EXPECT_LE(res.size, 20000u);
  }
  auto again = load(g.scenario.source.dump());
  EXPECT_EQ(again.scenario.page.resources[7].size, g.scenario.page.resources[7].size);
}

TEST(Scenario, SweepValuesAndRanges) {
  auto r = load(R"({"satlink_scenario": 1, "experiment": {"sweep": [
    {"path": "client_link.rtt_ms", "from": 0, "to": 1000, "step": 100},
    {"path": "client.connections_per_host", "values": [1, 2, 6]}]}})");
  ASSERT_TRUE(r.ok()) << errors_of(r);
  ASSERT_EQ(r.scenario.experiment.sweep.size(), 2u);
  EXPECT_EQ(r.scenario.experiment.sweep[0].values.size(), 11u);
  EXPECT_EQ(r.scenario.experiment.sweep[0].values[10], 1000.0);
  EXPECT_EQ(r.scenario.experiment.sweep[1].values.size(), 3u);
}

TEST(Scenario, SweepValueThatBreaksTheScenarioIsReportedWhereItIs) {
  auto r = load(R"({"satlink_scenario": 1, "experiment": {"sweep": [
    {"path": "client.connections_per_host", "values": [1, 0]}]}})");
  ASSERT_EQ(r.errors.size(), 1u) << errors_of(r);
  EXPECT_EQ(r.errors[0].path, "experiment.sweep[0].values[1]");
  EXPECT_EQ(r.errors[0].reason,
            "gives client.connections_per_host: must be an integer in 1..64, got 0");
  auto both = load(R"({"satlink_scenario": 1, "experiment": {"sweep": [
    {"path": "a", "values": [1], "from": 1, "to": 2, "step": 1}, {"values": [1]}]}})");
  EXPECT_GE(both.errors.size(), 2u) << errors_of(both);
}

TEST(Scenario, APlanTooLargeToHoldIsRefused) {
  // 5 modes x 1001 x 1001 points x 1000 repetitions: refused before anything is expanded.
  auto huge = load(R"({"satlink_scenario": 1, "experiment": {"repetitions": 1000, "sweep": [
    {"path": "client_link.rtt_ms", "from": 0, "to": 1000, "step": 1},
    {"path": "client.users", "from": 1, "to": 1001, "step": 1}]}})");
  ASSERT_EQ(huge.errors.size(), 1u) << errors_of(huge);
  EXPECT_EQ(huge.errors[0].path, "experiment");
  EXPECT_EQ(huge.errors[0].reason,
            "the plan would have 5010005000 trials (modes x sweep points x repetitions); at most 100000");
  // 5 x 101 x 198 = 99990 is still a plan.
  auto large = load(R"({"satlink_scenario": 1, "experiment": {"repetitions": 198, "sweep": [
    {"path": "client_link.rtt_ms", "from": 0, "to": 1000, "step": 10}]}})");
  EXPECT_TRUE(large.ok()) << errors_of(large);
}

TEST(Scenario, RangesNeedAllThreeKeepIntegersAndPathsAreSweptOnce) {
  auto r = load(R"({"satlink_scenario": 1, "experiment": {"sweep": [
    {"path": "client.connections_per_host", "from": 1, "to": 4, "step": 1}]}})");
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_TRUE(r.scenario.experiment.sweep[0].values[3].is_number_integer());
  auto partial = load(R"({"satlink_scenario": 1, "experiment": {"sweep": [
    {"path": "client.users", "from": 0}]}})");
  ASSERT_EQ(partial.errors.size(), 1u) << errors_of(partial);
  EXPECT_EQ(partial.errors[0].reason, "a range needs all of from, to and step");
  auto twice = load(R"({"satlink_scenario": 1, "experiment": {"sweep": [
    {"path": "client.users", "values": [1]}, {"path": "client.users", "values": [2]}]}})");
  ASSERT_EQ(twice.errors.size(), 1u) << errors_of(twice);
  EXPECT_EQ(twice.errors[0].path, "experiment.sweep[1]");
  EXPECT_TRUE(load(R"({"$schema": "./schema/scenario.schema.json", "satlink_scenario": 1})").ok());
  EXPECT_FALSE(load(R"({"$schema": 3, "satlink_scenario": 1})").ok());
}

TEST(Scenario, OverridesByPath) {
  json doc = json::parse(R"({"satlink_scenario": 1, "page": {"resources": [
    {"path": "/a.css", "type": "text/css", "size": 10}]}})");
  EXPECT_FALSE(apply_override(doc, "client_link.preset=leo"));
  EXPECT_FALSE(apply_override(doc, "client_link.down.delay_ms=12.5"));
  EXPECT_FALSE(apply_override(doc, "page.resources[0].size=99"));
  EXPECT_FALSE(apply_override(doc, "client.keep_alive=false"));
  auto r = load_scenario(doc);
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(r.scenario.client_link.preset, "leo");
  EXPECT_EQ(r.scenario.client_link.config.down.delay_ms, 12.5);
  EXPECT_EQ(r.scenario.page.resources[0].size, 99u);
  EXPECT_FALSE(r.scenario.client.keep_alive);

  EXPECT_EQ(apply_override(doc, "page.resources[3].size=1")->reason,
            "[3] is not an element of an array here");
  EXPECT_EQ(apply_override(doc, "satlink_scenario.x=1")->reason,
            "'x' cannot be set: its parent is not an object");
  EXPECT_EQ(apply_override(doc, "no-equals-sign")->reason, "must be PATH=VALUE");
  EXPECT_EQ(parse_override_value("geo"), json("geo"));
  EXPECT_EQ(parse_override_value("[1,2]"), json::array({1, 2}));
}

TEST(Scenario, ModesMapToTheProxySides) {
  EXPECT_FALSE(sides(Mode::no_proxy).proxy);
  EXPECT_TRUE(sides(Mode::server_close).client_keep_alive);
  EXPECT_FALSE(sides(Mode::server_close).server_keep_alive);
  EXPECT_FALSE(sides(Mode::client_close).client_keep_alive);
  EXPECT_TRUE(sides(Mode::client_close).server_keep_alive);
  for (Mode m : all_modes()) {
    Mode back{};
    EXPECT_TRUE(parse(to_string(m), back));
    EXPECT_EQ(back, m);
  }
}

TEST(Plan, ExpandsModesTimesPointsTimesRepetitions) {
  auto r = load(R"({"satlink_scenario": 1, "experiment": {"modes": ["keep-alive", "close", "no-proxy"],
    "repetitions": 2, "sweep": [{"path": "client_link.rtt_ms", "values": [10, 20, 30]},
                                {"path": "client.connections_per_host", "values": [1, 6]}]}})");
  ASSERT_TRUE(r.ok()) << errors_of(r);
  const ExperimentPlan plan = plan_experiment(r.scenario);
  EXPECT_EQ(plan.points, 6u);
  ASSERT_EQ(plan.trials.size(), 3u * 6u * 2u);
  EXPECT_EQ(plan.sweep_paths, (std::vector<std::string>{"client_link.rtt_ms", "client.connections_per_host"}));
  for (std::size_t i = 0; i < plan.trials.size(); ++i) EXPECT_EQ(plan.trials[i].index, i);
  // point-major, then repetition, then mode; each trial's scenario has its sweep values applied
  const Trial& t = plan.trials[3 * 2 * 4 + 3 + 1];  // point 4, repetition 2, mode 2
  EXPECT_EQ(t.point, 4u);
  EXPECT_EQ(t.repetition, 1u);
  EXPECT_EQ(t.mode, Mode::close);
  EXPECT_EQ(t.sweep_values, (std::vector<nlohmann::json>{30, 1}));
  EXPECT_EQ(t.scenario.client_link.config.rtt_ms(), 30);
  EXPECT_EQ(t.scenario.client.connections_per_host, 1u);
  EXPECT_EQ(t.label(), "close client_link.rtt_ms=30 client.connections_per_host=1 #2");
}

TEST(Plan, ModesShareASeedPerPointAndRepetitionAndSeedsDifferOtherwise) {
  auto r = load(R"({"satlink_scenario": 1, "experiment": {"repetitions": 3, "seed": 7,
    "sweep": [{"path": "client_link.rtt_ms", "values": [10, 20]}]}})");
  ASSERT_TRUE(r.ok()) << errors_of(r);
  const ExperimentPlan plan = plan_experiment(r.scenario);
  std::set<std::uint64_t> seeds;
  for (const Trial& t : plan.trials) {
    seeds.insert(t.seed);
    EXPECT_EQ(t.scenario.client_link.config.seed, t.seed);
    EXPECT_EQ(t.scenario.server_link.config.seed, t.seed + 1);
  }
  EXPECT_EQ(seeds.size(), 2u * 3u);  // one per (point, repetition), shared by the 5 modes
  auto again = plan_experiment(r.scenario);
  EXPECT_EQ(again.trials[17].seed, plan.trials[17].seed);  // reproducible
}

TEST(Scenario, FileErrorsAreReported) {
  auto missing = load_scenario_file("/nonexistent/scenario.json");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_NE(missing.errors[0].reason.find("cannot read"), std::string::npos);
}

TEST(Scenario, EveryShippedScenarioLoads) {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SATLINK_SCENARIOS_DIR)) {
    if (entry.path().extension() != ".json") continue;
    ++count;
    auto r = load_scenario_file(entry.path().string());
    EXPECT_TRUE(r.ok()) << entry.path() << "\n" << errors_of(r);
    EXPECT_FALSE(r.scenario.description.empty()) << entry.path();
  }
  EXPECT_GE(count, 1u);
}

}  // namespace
}  // namespace satlink::simulator
