// One trial on real sockets through the whole chain, in every mode: the page loads verified, and
// the connections each side opens are the mode's. The live testbed: the same chain kept up for
// a browser, reached from outside its thread, and gone after stop().
#include "satlink/simulator/testbed.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

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

// Time for one GET on a fresh connection through the testbed, in ms.
double timed_get(std::uint16_t port) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string page = get_page(port);
  const auto t1 = std::chrono::steady_clock::now();
  EXPECT_EQ(page.rfind("HTTP/1.1 200", 0), 0u) << page.substr(0, 200);
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

Scenario no_setup_scenario() {
  Scenario s = small_scenario();
  // No emulated handshake: a fresh connection's GET costs exactly one up and one down delay,
  // so a change of the delays shows in full.
  s.source["client_link"]["setup"] = "none";
  auto r = load_scenario(s.source);
  EXPECT_TRUE(r.ok()) << proxycore::format_errors(r.errors);
  return r.scenario;
}

TEST(LiveTestbed, ALinkChangeActsOnTheNextRequest) {
  LiveTestbed bed;
  bed.start(no_setup_scenario(), Mode::keep_alive);
  const std::uint16_t port = bed.chain()[0].port;
  const double before = std::min(timed_get(port), timed_get(port));

  LinkConfig c = bed.link_config(LinkSide::client);
  EXPECT_EQ(c.up.delay_ms, 10);
  EXPECT_EQ(c.down.delay_ms, 10);
  c.up.delay_ms = c.down.delay_ms = 210;
  bed.set_link(LinkSide::client, c);
  EXPECT_EQ(bed.link_config(LinkSide::client), c);
  EXPECT_EQ(bed.link_config(LinkSide::server).rtt_ms(), 2);  // the other link is untouched
  EXPECT_EQ(bed.chain()[0].detail, "RTT 420 ms");
  const auto log = bed.log().events();
  EXPECT_TRUE(std::any_of(log.begin(), log.end(), [](const LogEvent& e) {
    return e.is(LinkEvent::config_change) && e.component == Component::client_link &&
           e.a == 210'000 && e.b == 210'000;
  }));

  const double after = timed_get(port);
  std::printf("  GET before %.1f ms, after +200 ms each way %.1f ms\n", before, after);
  EXPECT_GE(after, 420.0 - 1);  // the link never releases a byte early
  // About the 400 ms added; generous above for a loaded 2-core machine.
  EXPECT_GE(after - before, 300.0);
  EXPECT_LE(after - before, 1000.0);

  c.down.loss.rate = 1.5;
  EXPECT_THROW(bed.set_link(LinkSide::client, c), std::invalid_argument);
  c.down.loss.rate = 0;
  c.up.delay_ms = -1;
  EXPECT_THROW(bed.set_link(LinkSide::server, c), std::invalid_argument);
  bed.stop();
  EXPECT_THROW(bed.set_link(LinkSide::client, c), std::logic_error);
}

// Request rows from the proxy's events: status, bytes, connection, reuse on keep-alive.
TEST(LiveTestbed, RequestRowsFollowTheBrowsersConnections) {
  for (Mode m : {Mode::keep_alive, Mode::no_proxy}) {
    LiveTestbed bed;
    bed.start(small_scenario(), m);
    const std::uint16_t port = bed.chain()[0].port;
    {
      auto s = test::Socket::connect_to(port, 5000);
      // Two requests on one connection, the second asks to close: the pair ends with EOF.
      s.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
             "GET /css/0.css HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
      std::string response;
      s.recv_until_end(&response);
      ASSERT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response.substr(0, 200);
    }
    ASSERT_TRUE(bed.log().wait_for(
        [](const EventList& events) {
          return std::count_if(events.begin(), events.end(), [](const LogEvent& e) {
                   return e.is(LinkEvent::close) && e.component == Component::client_link;
                 }) >= 1;
        },
        std::chrono::seconds(5)));
    const LiveCounters counts = bed.counters();
    EXPECT_EQ(counts.requests, 2u) << to_string(m);
    EXPECT_EQ(counts.client_link_connections, 1u);
    EXPECT_EQ(counts.client_link_open, 0u);
    EXPECT_GT(counts.response_bytes, 1000u);

    const LiveRequestPage page = bed.requests_since(0);
    ASSERT_EQ(page.total, 2u) << to_string(m);
    ASSERT_EQ(page.rows.size(), 2u);
    EXPECT_EQ(page.rows[0].status, 200);
    EXPECT_EQ(page.rows[0].index, 1u);
    EXPECT_FALSE(page.rows[0].reused());
    EXPECT_TRUE(page.rows[1].reused());
    EXPECT_EQ(page.rows[0].connection, page.rows[1].connection);
    EXPECT_GT(page.rows[1].bytes, 0u);
    EXPECT_GE(page.rows[1].duration_ms(), 0.0);
    EXPECT_EQ(page.rows[0].server_connection != 0, m != Mode::no_proxy);
    EXPECT_EQ(bed.requests_since(1).rows.size(), 1u);
    EXPECT_EQ(bed.requests_since(2).rows.size(), 0u);
    // The incremental tally and a scan of the whole log agree.
    const auto events = bed.log().events();
    EXPECT_EQ(live_counters(events), counts);
    EXPECT_EQ(live_requests(events).size(), 2u);
  }
}

LogEvent proxy_event(proxycore::EventKind k, std::int64_t t, std::uint64_t conn,
                     std::uint64_t request, std::int64_t value = 0,
                     proxycore::Side side = proxycore::Side::client) {
  LogEvent e;
  e.t_ns = t;
  e.component = Component::proxy;
  e.kind = static_cast<std::uint8_t>(k);
  e.dir = static_cast<std::uint8_t>(side);
  e.conn = conn;
  e.request = request;
  e.a = value;
  return e;
}

// Hand-written logs: the rows and counters are exact.
TEST(LiveTestbed, TallyReadsTheProxysSideOrTheOrigins) {
  using proxycore::EventKind;
  using proxycore::Side;
  const std::vector<LogEvent> proxied{
      proxy_event(EventKind::client_accept, 0, 1, 0),
      proxy_event(EventKind::tls_handshake_end, 1, 1, 0, 0),
      proxy_event(EventKind::request_head_start, 10, 1, 7),
      proxy_event(EventKind::server_connect_start, 11, 2, 7, 0, Side::server),
      proxy_event(EventKind::tls_handshake_end, 12, 2, 7, 0, Side::server),
      make_event(Component::origin, OriginEvent::tls_handshake_end, 12, 1, 0, 0),  // the same
      proxy_event(EventKind::response_head_sent, 20, 1, 7, 200),
      proxy_event(EventKind::response_end, 30'000'010, 1, 7, 500),
      proxy_event(EventKind::request_head_start, 40, 1, 8),
      proxy_event(EventKind::server_reuse, 41, 2, 8, 0, Side::server),
      proxy_event(EventKind::error, 50, 1, 8,
                  static_cast<std::int64_t>(proxycore::ErrorKind::client_aborted)),
      proxy_event(EventKind::request_head_start, 60, 1, 9),
      proxy_event(EventKind::client_close, 70, 1, 0, 2),
  };
  const LiveCounters c = live_counters(proxied);
  EXPECT_EQ(c.requests, 3u);
  EXPECT_EQ(c.client_tls_handshakes, 1u);
  EXPECT_EQ(c.server_tls_handshakes, 1u);  // not twice: the origin saw the proxy's
  EXPECT_EQ(c.response_bytes, 500u);
  const auto rows = live_requests(proxied);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].status, 200);
  EXPECT_EQ(rows[0].bytes, 500u);
  EXPECT_DOUBLE_EQ(rows[0].duration_ms(), 30.0);
  EXPECT_EQ(rows[0].server_connection, 2u);
  EXPECT_FALSE(rows[0].server_reused);
  EXPECT_TRUE(rows[1].server_reused);
  EXPECT_EQ(rows[1].error, "client_aborted");
  EXPECT_EQ(rows[1].end_ns, -1);
  EXPECT_EQ(rows[2].index, 3u);
  EXPECT_EQ(rows[2].end_ns, -1);  // cut by the close

  const std::vector<LogEvent> direct{
      make_event(Component::origin, OriginEvent::accept, 0, 4, 0, 1),
      make_event(Component::origin, OriginEvent::tls_handshake_end, 1, 4, 0, 0),
      make_event(Component::origin, OriginEvent::request, 2, 4, 1),
      make_event(Component::origin, OriginEvent::response_start, 3, 4, 1, 404),
      make_event(Component::origin, OriginEvent::response_end, 4, 4, 1, 9),
      make_event(Component::origin, OriginEvent::request, 5, 4, 2),
  };
  const LiveCounters d = live_counters(direct);
  EXPECT_EQ(d.client_tls_handshakes, 1u);
  EXPECT_EQ(d.server_tls_handshakes, 1u);
  const auto direct_rows = live_requests(direct);
  ASSERT_EQ(direct_rows.size(), 2u);
  EXPECT_EQ(direct_rows[0].status, 404);
  EXPECT_EQ(direct_rows[0].connection, 4u);
  EXPECT_TRUE(direct_rows[1].reused());
  EXPECT_EQ(direct_rows[1].end_ns, -1);  // still in flight
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
