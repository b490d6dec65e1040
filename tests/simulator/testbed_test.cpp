// One trial on real sockets through the whole chain, in every mode: the page loads verified, and
// the connections each side opens are the mode's.
#include "satlink/simulator/testbed.hpp"

#include <gtest/gtest.h>

namespace satlink::simulator {
namespace {

Scenario small_scenario() {
  auto r = load_scenario(nlohmann::json::parse(R"({"satlink_scenario": 1,
    "client_link": {"rtt_ms": 20},
    "server_link": {"rtt_ms": 2},
    "page": {"generate": {"count": 12, "min_bytes": 1000, "max_bytes": 5000}},
    "experiment": {"repetitions": 1}})"));
  EXPECT_TRUE(r.ok()) << proxycore::format_errors(r.errors);
  return r.scenario;
}

std::size_t count(const TrialRun& run, auto kind) {
  return static_cast<std::size_t>(std::count_if(run.events.begin(), run.events.end(),
                                                [&](const LogEvent& e) { return e.is(kind); }));
}

struct Counts {
  std::size_t client, origin, requests;
};

Counts run_mode(Mode m) {
  auto plan = plan_experiment(small_scenario());
  const Trial* trial = nullptr;
  for (const auto& t : plan.trials)
    if (t.mode == m) trial = &t;
  EXPECT_NE(trial, nullptr);
  std::atomic<bool> cancel{false};
  TrialRun run = run_trial(*trial, cancel);
  EXPECT_EQ(run.error, "") << to_string(m);
  EXPECT_EQ(count(run, ClientEvent::page_end), 1u);
  EXPECT_EQ(run.requests.size(), 13u);
  return {count(run, ClientEvent::connect_start), count(run, OriginEvent::accept),
          count(run, ClientEvent::response_end)};
}

TEST(Testbed, KeepAliveBothSides) {
  auto c = run_mode(Mode::keep_alive);
  EXPECT_EQ(c.requests, 13u);
  EXPECT_LE(c.client, 6u);
  EXPECT_LE(c.origin, 6u);
}

TEST(Testbed, ServerCloseOpensAnOriginConnectionPerRequest) {
  auto c = run_mode(Mode::server_close);
  EXPECT_LE(c.client, 6u);
  EXPECT_EQ(c.origin, 13u);
}

TEST(Testbed, CloseOpensAConnectionPerRequestOnBothSides) {
  auto c = run_mode(Mode::close);
  EXPECT_EQ(c.client, 13u);
  EXPECT_EQ(c.origin, 13u);
}

TEST(Testbed, NoProxyBaselineReachesTheOriginThroughBothLinks) {
  auto c = run_mode(Mode::no_proxy);
  EXPECT_LE(c.client, 6u);
  EXPECT_EQ(c.origin, c.client);
}

TEST(Testbed, CancelEndsTheTrialPromptly) {
  auto s = small_scenario();
  s.client_link.config.up.delay_ms = s.client_link.config.down.delay_ms = 2000;
  auto plan = plan_experiment(s);
  plan.trials[0].scenario = s;
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // mid-load, not a sync
    cancel = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  TrialRun run = run_trial(plan.trials[0], cancel);
  canceller.join();
  EXPECT_TRUE(run.cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

}  // namespace
}  // namespace satlink::simulator
