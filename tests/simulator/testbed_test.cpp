// One trial on real sockets through the whole chain, in every mode: the page loads verified, and
// the connections each side opens are the mode's. The live testbed: the same chain kept up for
// a browser, reached from outside its thread, and gone after stop().
#include "satlink/simulator/testbed.hpp"

#include <gtest/gtest.h>

#include "raw_peer.hpp"
#include "satlink/simulator/live_testbed.hpp"

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

// A browser's first request, answered through the whole chain: status line and body.
std::string get_page(std::uint16_t port) {
  auto s = test::Socket::connect_to(port, 5000);
  s.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  std::string response;
  s.recv_until_end(&response);
  return response;
}

bool accepts(std::uint16_t port) {
  try {
    test::Socket::connect_to(port, 1000);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

TEST(LiveTestbed, ServesThePageThroughTheChainUntilStopped) {
  LiveTestbed bed;
  bed.start(small_scenario(), Mode::keep_alive);
  ASSERT_TRUE(bed.running());
  const auto hops = bed.chain();
  ASSERT_EQ(hops.size(), 4u);
  EXPECT_EQ(hops[0].name, "client link");
  EXPECT_EQ(hops[1].name, "proxy");
  EXPECT_EQ(hops[3].name, "origin");
  EXPECT_EQ(bed.url(), "http://127.0.0.1:" + std::to_string(hops[0].port) + "/");

  const std::string page = get_page(hops[0].port);
  EXPECT_EQ(page.rfind("HTTP/1.1 200", 0), 0u) << page.substr(0, 200);
  EXPECT_NE(page.find("/css/0.css"), std::string::npos);  // the origin's page, not an error

  // The replay client stands in for a browser: every resource verified against its checksum.
  ReplayOptions o;
  o.port = hops[0].port;
  const ReplayResult r = Replay(o, nullptr).run();
  EXPECT_EQ(r.users_ok, 1u) << r.first_error;
  const LiveCounters c = bed.counters();
  EXPECT_EQ(c.origin_requests, 14u);  // the GET above, then the page and its 12 resources
  EXPECT_GE(c.client_link_connections, 2u);
  EXPECT_EQ(c.proxy_client_connections, c.client_link_connections);
  EXPECT_GE(c.origin_connections, 1u);

  bed.stop();
  EXPECT_FALSE(bed.running());
  for (const auto& hop : hops) EXPECT_FALSE(accepts(hop.port)) << hop.name;
  bed.stop();  // idempotent
}

TEST(LiveTestbed, NoProxyModeHasNoProxyHop) {
  LiveTestbed bed;
  bed.start(small_scenario(), Mode::no_proxy);
  const auto hops = bed.chain();
  ASSERT_EQ(hops.size(), 3u);
  EXPECT_EQ(hops[1].name, "server link");
  EXPECT_EQ(get_page(hops[0].port).rfind("HTTP/1.1 200", 0), 0u);
}

TEST(LiveTestbed, APortInUseIsNamedAndNothingIsLeftRunning) {
  LiveTestbed first;
  first.start(small_scenario(), Mode::close);
  const std::uint16_t taken = first.chain()[0].port;
  LiveTestbed second;
  LiveOptions o;
  o.listen_port = taken;
  try {
    second.start(small_scenario(), Mode::close, o);
    ADD_FAILURE() << "bound a port in use";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(taken)), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(second.running());
  EXPECT_EQ(get_page(taken).rfind("HTTP/1.1 200", 0), 0u);  // the first one is untouched
}

TEST(LiveTestbed, StartsAgainAfterStop) {
  LiveTestbed bed;
  bed.start(small_scenario(), Mode::server_close);
  EXPECT_THROW(bed.start(small_scenario(), Mode::server_close), std::logic_error);
  bed.stop();
  bed.start(small_scenario(), Mode::server_close);
  EXPECT_EQ(get_page(bed.chain()[0].port).rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(bed.counters().origin_requests, 1u);  // the log starts over
}

TEST(LiveTestbed, ClassifiesListenAddresses) {
  EXPECT_EQ(classify_address("127.0.0.1"), AddressKind::loopback);
  EXPECT_EQ(classify_address("127.3.2.1"), AddressKind::loopback);
  EXPECT_EQ(classify_address("::1"), AddressKind::loopback);
  EXPECT_EQ(classify_address("0.0.0.0"), AddressKind::other);
  EXPECT_EQ(classify_address("192.0.2.7"), AddressKind::other);
  EXPECT_EQ(classify_address("localhost"), AddressKind::invalid);
  LiveTestbed bed;
  LiveOptions o;
  o.listen_address = "not-an-address";
  EXPECT_THROW(bed.start(small_scenario(), Mode::keep_alive, o), std::invalid_argument);
}

}  // namespace
}  // namespace satlink::simulator
