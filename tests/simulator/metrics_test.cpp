// Metrics from hand-written event logs: every expected figure is computed by hand from the log.
#include "satlink/simulator/metrics.hpp"

#include "satlink/simulator/har.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

namespace satlink::simulator {
namespace {

using proxycore::EventKind;
using proxycore::Side;

constexpr std::int64_t kBase = 5'000'000'000'000;  // a steady clock far from 0
std::int64_t at(double ms) {
  return kBase + std::llround(ms * 1e6);
}

class Log {
 public:
  Log& client(double ms, ClientEvent k, std::uint64_t conn, std::uint64_t request,
              std::int64_t a = 0, std::int64_t b = 0, std::int64_t c = 0) {
    return add(ms, Component::client, static_cast<std::uint8_t>(k), 0, conn, request, a, b, c);
  }
  Log& link(double ms, Component side, LinkEvent k, std::uint64_t conn, std::uint8_t dir = 0,
            std::int64_t a = 0) {
    return add(ms, side, static_cast<std::uint8_t>(k), dir, conn, 0, a, 0, 0);
  }
  Log& setup(Component side, std::uint64_t conn, double from, double to) {
    // The link logs setup_end at accept time with the future release time: arrival order
    // differs from time order.
    link(to, side, LinkEvent::setup_end, conn);
    return link(from, side, LinkEvent::setup_start, conn);
  }
  Log& origin(double ms, OriginEvent k, std::uint64_t conn, std::int64_t a = 0, std::int64_t b = 0,
              std::int64_t c = 0) {
    return add(ms, Component::origin, static_cast<std::uint8_t>(k), 0, conn, 0, a, b, c);
  }
  Log& proxy(double ms, EventKind k, Side side, std::uint64_t conn, std::uint64_t request = 0,
             std::int64_t value = 0) {
    return add(ms, Component::proxy, static_cast<std::uint8_t>(k), static_cast<std::uint8_t>(side),
               conn, request, value, 0, 0);
  }
  // A request's exchange once it has a connection: start, sent, first and last response byte.
  Log& exchange(std::uint64_t request, std::uint64_t conn, bool reused, double start, double sent,
                double first, double last, std::int64_t body = 1000) {
    client(start, ClientEvent::request_start, conn, request, reused ? 1 : 0);
    client(sent, ClientEvent::request_sent, conn, request);
    client(first, ClientEvent::response_start, conn, request);
    return client(last, ClientEvent::response_end, conn, request, 200, body, 1);
  }
  Log& queued(double ms, std::uint64_t request, std::int64_t index, std::int64_t user = 0) {
    return client(ms, ClientEvent::request_queued, 0, request, index, user);
  }
  Log& connect(std::uint64_t conn, std::uint64_t request, double start, double end,
              std::int64_t local_port = 0) {
    client(start, ClientEvent::connect_start, conn, request);
    return client(end, ClientEvent::connect_end, conn, request, 0, local_port);
  }
  // A link's side of one connection: accept (b = the peer's port) and the set-up hold.
  Log& accepted(Component side, std::uint64_t conn, std::int64_t peer_port, double at_ms,
                double release_ms) {
    add(at_ms, side, static_cast<std::uint8_t>(LinkEvent::accept), 0, conn, 0, 0, peer_port, 0);
    return setup(side, conn, at_ms, release_ms);
  }

  std::vector<LogEvent> events;

 private:
  Log& add(double ms, Component component, std::uint8_t kind, std::uint8_t dir, std::uint64_t conn,
           std::uint64_t request, std::int64_t a, std::int64_t b, std::int64_t c) {
    events.push_back(LogEvent{at(ms), component, kind, dir, conn, request, a, b, c});
    return *this;
  }
};

// One user, the HTML and 3 resources over 2 keep-alive connections on a 600 ms RTT link:
//   conn 1: req 1 (HTML, new), req 2 (reused), req 4 (reused, waits for conn 1 to be free)
//   conn 2: req 3 (new)
Log keep_alive_page() {
  Log log;
  log.client(0, ClientEvent::page_start, 0, 0, 0)
      .queued(0, 1, 0)
      .connect(1, 1, 0, 1)
      .setup(Component::client_link, 1, 1, 601)
      .exchange(1, 1, false, 2, 3, 1203, 1250, 5000)
      .queued(1250, 2, 1)
      .queued(1250, 3, 2)
      .queued(1250, 4, 3)
      .exchange(2, 1, true, 1251, 1252, 1853, 1900, 1000)
      .connect(2, 3, 1250, 1251)
      .setup(Component::client_link, 2, 1251, 1851)
      .exchange(3, 2, false, 1252, 1253, 2453, 2460, 2000)
      .exchange(4, 1, true, 1900, 1901, 2501, 2510, 3000)
      .client(2510, ClientEvent::page_end, 0, 0, 0, 1)
      .client(2600, ClientEvent::close, 1, 0, 3)
      .client(2600, ClientEvent::close, 2, 0, 1);
  for (double t : {3.0, 1252.0, 1253.0, 1901.0}) {
    log.link(t, Component::client_link, LinkEvent::chunk_out, 1, 0, 300);
  }
  for (std::int64_t bytes : {5200, 1100, 2100, 3100}) {
    log.link(2510, Component::client_link, LinkEvent::chunk_out, 1, 1, bytes);
  }
  return log;
}

const RequestMetrics& find(const std::vector<RequestMetrics>& v, std::uint64_t request) {
  const auto it = std::find_if(v.begin(), v.end(),
                               [&](const RequestMetrics& r) { return r.request == request; });
  EXPECT_NE(it, v.end()) << "request " << request;
  return *it;
}

void expect_timings(const RequestMetrics& r, double blocked, double connect, double ssl,
                    double send, double wait, double receive) {
  SCOPED_TRACE("request " + std::to_string(r.request));
  EXPECT_DOUBLE_EQ(r.blocked_ms, blocked);
  EXPECT_DOUBLE_EQ(r.dns_ms, -1);
  EXPECT_DOUBLE_EQ(r.connect_ms, connect);
  EXPECT_DOUBLE_EQ(r.ssl_ms, ssl);
  EXPECT_DOUBLE_EQ(r.send_ms, send);
  EXPECT_DOUBLE_EQ(r.wait_ms, wait);
  EXPECT_DOUBLE_EQ(r.receive_ms, receive);
}

TEST(RequestMetrics, KeepAlivePageHasHarTimings) {
  const auto requests = request_metrics(keep_alive_page().events);
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].request, 1u);  // sorted by queued time
  const RequestMetrics& html = find(requests, 1);
  expect_timings(html, 1, 1, -1, 1, 1200, 47);
  EXPECT_DOUBLE_EQ(html.time_ms(), 1250);  // = response_end - request_queued
  EXPECT_FALSE(html.reused);
  EXPECT_EQ(html.connection, 1u);
  EXPECT_EQ(html.status, 200);
  EXPECT_EQ(html.body_bytes, 5000u);
  EXPECT_TRUE(html.checksum_ok);
  EXPECT_TRUE(html.complete);
  EXPECT_FALSE(html.failed());
  EXPECT_EQ(html.queued_ns, at(0));
  expect_timings(find(requests, 2), 1, -1, -1, 1, 601, 47);
  EXPECT_TRUE(find(requests, 2).reused);
  expect_timings(find(requests, 3), 1, 1, -1, 1, 1200, 7);
  EXPECT_FALSE(find(requests, 3).reused);
  EXPECT_EQ(find(requests, 3).connection, 2u);
  expect_timings(find(requests, 4), 650, -1, -1, 1, 600, 9);
  EXPECT_DOUBLE_EQ(find(requests, 4).time_ms(), 1260);
  EXPECT_EQ(find(requests, 4).resource_index, 3u);
}

// The client link's emulated handshake moves into connect. Plain HTTP, 600 ms RTT:
//   conn 1 (port 40001): req 1 new, hold 600 ms; req 2 reused on it (pays nothing)
//   conn 2 (port 40001 again, later): req 3 new, hold 100 ms: the later accept of the port
//   conn 3 (port 40002): req 4 new, hold 600 ms but only 200 ms of wait to take
// The server link's accept names port 40001 too (no-proxy mode): it is never used.
Log handshake_page() {
  Log log;
  log.client(0, ClientEvent::page_start, 0, 0, 0)
      .queued(0, 1, 0)
      .connect(1, 1, 0, 1, 40001)
      .accepted(Component::client_link, 7, 40001, 1.5, 601.5)
      .accepted(Component::server_link, 1, 40001, 301.5, 302.5)
      .exchange(1, 1, false, 2, 3, 1203, 1250, 5000)
      .queued(1250, 2, 1)
      .queued(1250, 3, 2)
      .queued(1250, 4, 3)
      .exchange(2, 1, true, 1251, 1252, 1853, 1900)
      .connect(2, 3, 1300, 1301, 40001)
      .accepted(Component::client_link, 8, 40001, 1300.5, 1400.5)
      .exchange(3, 2, false, 1302, 1303, 1700, 1710)
      .connect(3, 4, 1250, 1251, 40002)
      .accepted(Component::client_link, 9, 40002, 1251, 1851)
      .exchange(4, 3, false, 1252, 1253, 1453, 1460)
      .client(1900, ClientEvent::page_end, 0, 0, 0, 1);
  return log;
}

TEST(RequestMetrics, EmulatedHandshakeMovesFromWaitToConnect) {
  const auto requests = request_metrics(handshake_page().events);
  ASSERT_EQ(requests.size(), 4u);
  // Without the link: connect 1, wait 1200. The hold (600) minus nothing: the request's own
  // one-way trip is after setup_end already.
  expect_timings(find(requests, 1), 1, 601, -1, 1, 600, 47);
  EXPECT_DOUBLE_EQ(find(requests, 1).time_ms(), 1250);  // the phases still sum to the span
  expect_timings(find(requests, 2), 1, -1, -1, 1, 601, 47);  // reused: nothing to attribute
  expect_timings(find(requests, 3), 51, 101, -1, 1, 297, 10);
  EXPECT_DOUBLE_EQ(find(requests, 3).time_ms(), 460);
  expect_timings(find(requests, 4), 1, 201, -1, 1, 0, 7);  // never more than the wait
  EXPECT_DOUBLE_EQ(find(requests, 4).time_ms(), 210);
  // Order of arrival does not matter.
  std::vector<LogEvent> reversed = handshake_page().events;
  std::reverse(reversed.begin(), reversed.end());
  expect_timings(find(request_metrics(reversed), 1), 1, 601, -1, 1, 600, 47);
  expect_timings(find(request_metrics(reversed), 3), 51, 101, -1, 1, 297, 10);
  // The trial's own figures come from the log, not from these timings: unchanged.
  const TrialMetrics m = trial_metrics(handshake_page().events);
  EXPECT_DOUBLE_EQ(m.page_load_ms, 1900);
  EXPECT_DOUBLE_EQ(m.client_setup_ms, 600 + 100 + 600);
  EXPECT_DOUBLE_EQ(m.server_setup_ms, 1);
  // HAR: time is still the sum of the phases.
  HarPage page;
  page.paths = {"/", "/a", "/b", "/c"};
  page.loads = page_loads(handshake_page().events);
  const auto har = har_document(requests, page);
  EXPECT_TRUE(validate_har(har).empty());
}

TEST(RequestMetrics, EmulatedHandshakeMovesFromSslToTcpConnect) {
  // TLS: the held first byte was the ClientHello, so ssl held the hold; connect includes ssl.
  Log log;
  log.client(0, ClientEvent::page_start, 0, 0, 0)
      .queued(0, 1, 0)
      .client(0, ClientEvent::connect_start, 1, 1)
      .client(1, ClientEvent::tls_start, 1, 1)
      .client(1201, ClientEvent::tls_end, 1, 1, 0, 0x0304)
      .client(1201, ClientEvent::connect_end, 1, 1, 0, 40003)
      .accepted(Component::client_link, 1, 40003, 0.5, 600.5)
      .exchange(1, 1, false, 1202, 1203, 1804, 1850)
      .client(1850, ClientEvent::page_end, 0, 0, 0, 1);
  const auto requests = request_metrics(log.events);
  ASSERT_EQ(requests.size(), 1u);
  expect_timings(requests[0], 1, 1201, 600, 1, 601, 46);  // without the link: ssl 1200
  EXPECT_DOUBLE_EQ(requests[0].time_ms(), 1850);
  // A log whose connect_end names no port (an older log): no join, ssl as measured.
  for (LogEvent& e : log.events) {
    if (e.is(ClientEvent::connect_end)) e.b = 0;
  }
  expect_timings(request_metrics(log.events)[0], 1, 1201, 1200, 1, 601, 46);
}

TEST(RequestMetrics, WithoutClientLinkEventsTimingsAreAsMeasured) {
  // Only the server link's accept names the port: nothing moves.
  Log log = handshake_page();
  std::erase_if(log.events, [](const LogEvent& e) { return e.component == Component::client_link; });
  const auto requests = request_metrics(log.events);
  expect_timings(find(requests, 1), 1, 1, -1, 1, 1200, 47);
  expect_timings(find(requests, 3), 51, 1, -1, 1, 397, 10);
  expect_timings(find(requests, 4), 1, 1, -1, 1, 200, 7);
}

TEST(TrialMetrics, KeepAlivePage) {
  const TrialMetrics m = trial_metrics(keep_alive_page().events);
  EXPECT_DOUBLE_EQ(m.page_load_ms, 2510);
  EXPECT_DOUBLE_EQ(m.page_load_max_ms, 2510);
  EXPECT_DOUBLE_EQ(m.html_ttfb_ms, 1203);
  EXPECT_EQ(m.users_ok, 1u);
  EXPECT_EQ(m.users_failed, 0u);
  EXPECT_EQ(m.requests, 4u);
  EXPECT_EQ(m.client_connections, 2u);
  EXPECT_EQ(m.proxy_client_connections, 0u);
  EXPECT_EQ(m.origin_connections, 0u);
  EXPECT_DOUBLE_EQ(m.reuse_ratio, 0.5);
  EXPECT_DOUBLE_EQ(m.server_reuse_ratio, -1);  // no proxy
  EXPECT_EQ(m.bytes_up, 1200u);
  EXPECT_EQ(m.bytes_down, 11500u);
  EXPECT_DOUBLE_EQ(m.client_setup_ms, 1200);
  EXPECT_DOUBLE_EQ(m.client_setup_critical_ms, 1200);  // no response byte flows during either
  EXPECT_DOUBLE_EQ(m.server_setup_ms, 0);
  EXPECT_EQ(m.errors, 0u);
  EXPECT_EQ(m.retries, 0u);
  EXPECT_EQ(m.start_ns, at(0));
  EXPECT_EQ(m.end_ns, at(2600));
  EXPECT_DOUBLE_EQ(m.duration_ms(), 2600);
}

TEST(TrialMetrics, TwoUsersAverage) {
  Log log;
  log.client(0, ClientEvent::page_start, 0, 0, 0)
      .client(100, ClientEvent::page_start, 0, 0, 1)
      .queued(0, 1, 0, 0)
      .queued(100, 2, 0, 1)
      .exchange(1, 1, false, 0, 0, 1000, 1100)
      .exchange(2, 2, false, 100, 100, 1600, 1700)
      .client(2000, ClientEvent::page_end, 0, 0, 0, 1)
      .client(3100, ClientEvent::page_end, 0, 0, 1, 1);
  const TrialMetrics m = trial_metrics(log.events);
  EXPECT_DOUBLE_EQ(m.page_load_ms, 2500);  // (2000 + 3000) / 2
  EXPECT_DOUBLE_EQ(m.page_load_max_ms, 3000);
  EXPECT_DOUBLE_EQ(m.html_ttfb_ms, 1250);  // (1000 + 1500) / 2
  EXPECT_EQ(m.users_ok, 2u);
  const auto loads = page_loads(log.events);
  ASSERT_EQ(loads.size(), 2u);
  EXPECT_EQ(loads[1].user, 1u);
  EXPECT_DOUBLE_EQ(loads[1].load_ms(), 3000);
}

TEST(TrialMetrics, FailedRequestsAreErrorsAndFailTheUser) {
  Log log;
  log.client(0, ClientEvent::page_start, 0, 0, 0)
      .queued(0, 1, 0)
      .connect(1, 1, 0, 1)
      .exchange(1, 1, false, 2, 3, 1203, 1250)
      .queued(1250, 2, 1)
      .queued(1250, 3, 2)  // never started, never failed: unfinished
      .queued(1250, 4, 3)
      .client(1251, ClientEvent::request_start, 1, 2, 1)
      .client(1252, ClientEvent::request_sent, 1, 2)
      .client(1500, ClientEvent::error, 1, 2, static_cast<std::int64_t>(ClientError::io_error))
      .client(1300, ClientEvent::connect_start, 3, 4)
      .client(1310, ClientEvent::connect_end, 3, 4, 111)
      .client(1310, ClientEvent::error, 3, 4,
              static_cast<std::int64_t>(ClientError::connect_failed))
      .client(1500, ClientEvent::page_end, 0, 0, 0, 0);
  const TrialMetrics m = trial_metrics(log.events);
  EXPECT_EQ(m.errors, 3u);
  EXPECT_EQ(m.users_ok, 0u);
  EXPECT_EQ(m.users_failed, 1u);
  EXPECT_DOUBLE_EQ(m.page_load_ms, -1);
  EXPECT_DOUBLE_EQ(m.html_ttfb_ms, 1203);
  EXPECT_DOUBLE_EQ(m.reuse_ratio, 0.5);  // of the 2 requests that started

  const auto requests = request_metrics(log.events);
  const RequestMetrics& broken = find(requests, 2);
  EXPECT_EQ(broken.error, ClientError::io_error);
  EXPECT_TRUE(broken.failed());
  expect_timings(broken, 1, -1, -1, 1, -1, -1);
  const RequestMetrics& unstarted = find(requests, 3);
  EXPECT_TRUE(unstarted.failed());
  EXPECT_EQ(unstarted.error, ClientError::none);
  expect_timings(unstarted, -1, -1, -1, -1, -1, -1);
  EXPECT_DOUBLE_EQ(unstarted.time_ms(), 0);
  const RequestMetrics& refused = find(requests, 4);
  EXPECT_EQ(refused.error, ClientError::connect_failed);
  expect_timings(refused, -1, 10, -1, -1, -1, -1);

  // An error that names no request still counts.
  log.client(1600, ClientEvent::error, 9, 0, static_cast<std::int64_t>(ClientError::timeout));
  EXPECT_EQ(trial_metrics(log.events).errors, 4u);
}

TEST(TrialMetrics, TlsHandshakesBothSides) {
  Log log;
  log.client(0, ClientEvent::page_start, 0, 0, 0)
      .queued(0, 1, 0)
      .connect(1, 1, 0, 1)
      .client(1, ClientEvent::tls_start, 1, 1)
      .client(601, ClientEvent::tls_end, 1, 1, 0)
      .exchange(1, 1, false, 602, 603, 1203, 1210)
      .origin(900, OriginEvent::tls_handshake_start, 1)
      .origin(901, OriginEvent::tls_handshake_end, 1, 0, 0x0304);
  // The replay client logs connect_end after the TLS handshake: the same figures.
  log.queued(0, 2, 1)
      .client(0, ClientEvent::connect_start, 2, 2)
      .client(1, ClientEvent::tls_start, 2, 2)
      .client(601, ClientEvent::tls_end, 2, 2, 1)
      .client(601, ClientEvent::connect_end, 2, 2, 0)
      .exchange(2, 2, false, 602, 603, 1203, 1210);
  const auto requests = request_metrics(log.events);
  ASSERT_EQ(requests.size(), 2u);
  expect_timings(requests[0], 1, 601, 600, 1, 600, 7);  // connect includes ssl
  EXPECT_DOUBLE_EQ(requests[0].time_ms(), 1210);        // ssl not counted twice
  expect_timings(requests[1], 1, 601, 600, 1, 600, 7);

  TrialMetrics m = trial_metrics(log.events);
  EXPECT_EQ(m.client_tls_handshakes, 2u);
  EXPECT_EQ(m.server_tls_handshakes, 1u);  // no proxy: the origin's handshakes

  // With a proxy, the server side is the proxy's server-side handshakes.
  log.proxy(700, EventKind::tls_handshake_end, Side::client, 1, 0, 0)
      .proxy(900, EventKind::tls_handshake_end, Side::server, 2, 0, 0)
      .proxy(950, EventKind::tls_handshake_end, Side::server, 3, 0, 1);
  m = trial_metrics(log.events);
  EXPECT_EQ(m.client_tls_handshakes, 2u);
  EXPECT_EQ(m.server_tls_handshakes, 2u);
}

TEST(TrialMetrics, ProxyReuseAndRetries) {
  Log log;
  log.proxy(0, EventKind::client_accept, Side::client, 1)
      .proxy(1, EventKind::server_connect_start, Side::server, 2, 1)
      .proxy(2, EventKind::server_connect_end, Side::server, 2, 1, 0)
      .proxy(10, EventKind::server_reuse, Side::server, 2, 2)
      .proxy(20, EventKind::server_reuse, Side::server, 2, 3)
      .proxy(30, EventKind::server_reuse, Side::server, 2, 4)
      .proxy(40, EventKind::retry, Side::server, 0, 4)
      .proxy(41, EventKind::server_connect_start, Side::server, 3, 4);
  // The browser re-sends request 7 on a fresh connection after its reused one failed.
  log.queued(5, 7, 1)
      .client(10, ClientEvent::request_start, 1, 7, 1)
      .connect(2, 7, 15, 16)
      .exchange(7, 2, false, 20, 21, 50, 60);
  const TrialMetrics m = trial_metrics(log.events);
  EXPECT_EQ(m.proxy_client_connections, 1u);
  EXPECT_EQ(m.proxy_server_connections, 2u);
  EXPECT_DOUBLE_EQ(m.server_reuse_ratio, 0.6);  // 3 / (3 + 2)
  EXPECT_EQ(m.retries, 2u);                     // one by the proxy, one by the browser
  const auto requests = request_metrics(log.events);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].connection, 2u);
  EXPECT_FALSE(requests[0].reused);
  expect_timings(requests[0], 14, 1, -1, 1, 29, 10);  // blocked = 20 - 5 - connect 1
}

TEST(TrialMetrics, OriginOccupancy) {
  Log log;
  log.origin(-100, OriginEvent::occupancy, 0, 0, 0, 0)  // the origin started before the page
      .client(0, ClientEvent::page_start, 0, 0, 0)
      .origin(0, OriginEvent::accept, 1, 1)
      .origin(0, OriginEvent::occupancy, 1, 1, 0, 6000)
      .origin(1000, OriginEvent::accept, 2, 2)
      .origin(1000, OriginEvent::occupancy, 2, 2, 0, 12000)
      .origin(2000, OriginEvent::occupancy, 1, 1, 1, 6250)
      .origin(3000, OriginEvent::occupancy, 2, 0, 2, 500)
      .origin(8000, OriginEvent::occupancy, 1, 0, 1, 250)
      .origin(10000, OriginEvent::occupancy, 2, 0, 0, 0);
  const TrialMetrics m = trial_metrics(log.events);
  EXPECT_EQ(m.origin_connections, 2u);
  EXPECT_EQ(m.origin_peak_connections, 2u);
  EXPECT_DOUBLE_EQ(m.origin_peak_memory_bytes, 12000);
  // Open: 1 x 1000 + 2 x 1000 + 2 x 1000 + 2 x 5000 + 1 x 2000 = 17000 over 10000 ms.
  EXPECT_DOUBLE_EQ(m.origin_mean_connections, 1.7);
  // Idle: 1 x 1000 + 2 x 5000 + 1 x 2000 = 13000 connection-ms.
  EXPECT_DOUBLE_EQ(m.origin_idle_connection_seconds, 13.0);

  const OccupancySeries s = occupancy_series(log.events);
  const std::vector<std::pair<double, double>> idle{{0, 0},    {1000, 0}, {2000, 1},
                                                    {3000, 2}, {8000, 1}, {10000, 0}};
  ASSERT_EQ(s.origin_idle.size(), idle.size());
  for (std::size_t i = 0; i < idle.size(); ++i) {
    EXPECT_DOUBLE_EQ(s.origin_idle[i].t_ms, idle[i].first) << i;
    EXPECT_DOUBLE_EQ(s.origin_idle[i].value, idle[i].second) << i;
  }
  ASSERT_EQ(s.origin_active.size(), 6u);
  EXPECT_DOUBLE_EQ(s.origin_active[0].value, 1);  // the sample before the window folded into 0
  EXPECT_DOUBLE_EQ(s.origin_memory[1].value, 12000);
  EXPECT_TRUE(s.client_open.empty());
}

TEST(OccupancySeries, ClientConnectionsOpen) {
  const OccupancySeries s = occupancy_series(keep_alive_page().events);
  const std::vector<std::pair<double, double>> open{{0, 0}, {1, 1}, {1251, 2}, {2600, 0}};
  ASSERT_EQ(s.client_open.size(), open.size());
  for (std::size_t i = 0; i < open.size(); ++i) {
    EXPECT_DOUBLE_EQ(s.client_open[i].t_ms, open[i].first) << i;
    EXPECT_DOUBLE_EQ(s.client_open[i].value, open[i].second) << i;
  }
  EXPECT_TRUE(s.origin_active.empty());
}

// Client set-ups [0,600], [100,500] (overlaps: the union counts once), [1000,1600] and
// [1900,2000] (after the page); responses flow during [1200,1300] and [1500,1700]; the page
// loads in [0,1800]. Critical: 600 + (1000..1200) 200 + (1300..1500) 200 = 1000.
// Server set-ups [700,701] (critical) and [1250,1260] (a response is flowing: not critical).
TEST(TrialMetrics, SetupOnTheCriticalPath) {
  Log log;
  log.client(0, ClientEvent::page_start, 0, 0, 0)
      .setup(Component::client_link, 1, 0, 600)
      .setup(Component::client_link, 4, 100, 500)
      .setup(Component::client_link, 2, 1000, 1600)
      .setup(Component::client_link, 3, 1900, 2000)
      .setup(Component::server_link, 1, 700, 701)
      .setup(Component::server_link, 2, 1250, 1260)
      .client(1200, ClientEvent::response_start, 1, 1)
      .client(1300, ClientEvent::response_end, 1, 1, 200, 10, 1)
      .client(1500, ClientEvent::response_start, 2, 2)
      .client(1700, ClientEvent::response_end, 2, 2, 200, 10, 1)
      .client(1800, ClientEvent::page_end, 0, 0, 0, 1);
  const TrialMetrics m = trial_metrics(log.events);
  EXPECT_DOUBLE_EQ(m.client_setup_ms, 1700);
  EXPECT_DOUBLE_EQ(m.client_setup_critical_ms, 1000);
  EXPECT_DOUBLE_EQ(m.server_setup_ms, 11);
  EXPECT_DOUBLE_EQ(m.server_setup_critical_ms, 1);
}

std::vector<double> all_values(const TrialMetrics& m) {
  std::vector<double> out;
  for (const MetricDescriptor& d : trial_metric_descriptors()) out.push_back(d.get(m));
  return out;
}

TEST(TrialMetrics, OrderOfArrivalDoesNotMatter) {
  std::vector<LogEvent> reversed = keep_alive_page().events;
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(all_values(trial_metrics(reversed)),
            all_values(trial_metrics(keep_alive_page().events)));
  const auto requests = request_metrics(reversed);
  ASSERT_EQ(requests.size(), 4u);
  expect_timings(find(requests, 4), 650, -1, -1, 1, 600, 9);
  expect_timings(find(requests, 1), 1, 1, -1, 1, 1200, 47);
}

TEST(TrialMetrics, EmptyLog) {
  const std::vector<LogEvent> none;
  EXPECT_TRUE(request_metrics(none).empty());
  EXPECT_TRUE(page_loads(none).empty());
  const TrialMetrics m = trial_metrics(none);
  EXPECT_DOUBLE_EQ(m.page_load_ms, -1);
  EXPECT_DOUBLE_EQ(m.html_ttfb_ms, -1);
  EXPECT_DOUBLE_EQ(m.reuse_ratio, -1);
  EXPECT_EQ(m.errors, 0u);
  EXPECT_EQ(m.users_failed, 0u);
  for (double v : all_values(m)) EXPECT_TRUE(std::isfinite(v));
  const OccupancySeries s = occupancy_series(none);
  EXPECT_TRUE(s.client_open.empty() && s.origin_active.empty() && s.origin_memory.empty());
}

TEST(TrialMetrics, FragmentsNeverCrash) {
  Log log;
  log.client(5, ClientEvent::response_end, 1, 1, 200, 10, 1)
      .client(6, ClientEvent::page_end, 0, 0, 3, 1)  // no page_start: ignored
      .link(1, Component::client_link, LinkEvent::setup_end, 1)
      .link(2, Component::server_link, LinkEvent::setup_start, 1)
      .client(7, ClientEvent::close, 4, 0)
      .client(8, ClientEvent::tls_end, 5, 0, -1);
  const TrialMetrics m = trial_metrics(log.events);
  EXPECT_EQ(m.requests, 1u);
  EXPECT_EQ(m.errors, 0u);  // it completed, however little else is known
  EXPECT_EQ(m.users_ok + m.users_failed, 0u);
  EXPECT_DOUBLE_EQ(m.client_setup_ms, 0);
  EXPECT_DOUBLE_EQ(m.server_setup_ms, 0);
  EXPECT_EQ(m.start_ns, at(1));  // no page_start: the first event
  const auto requests = request_metrics(log.events);
  ASSERT_EQ(requests.size(), 1u);
  expect_timings(requests[0], -1, -1, -1, -1, -1, -1);
  EXPECT_EQ(requests[0].queued_ns, at(5));  // its earliest event stands in
}

TEST(MetricDescriptors, NamesAreUniqueAndReadTheirField) {
  std::set<std::string_view> names;
  for (const MetricDescriptor& d : trial_metric_descriptors()) {
    EXPECT_FALSE(d.name.empty());
    EXPECT_FALSE(d.unit.empty()) << d.name;
    EXPECT_FALSE(d.description.empty()) << d.name;
    EXPECT_TRUE(names.insert(d.name).second) << d.name;
  }
  TrialMetrics m;
  m.reuse_ratio = 0.25;
  m.bytes_down = 1234;
  m.start_ns = 0;
  m.end_ns = 3'000'000;
  const auto value_of = [&](std::string_view name) {
    for (const MetricDescriptor& d : trial_metric_descriptors()) {
      if (d.name == name) return d.get(m);
    }
    ADD_FAILURE() << name;
    return 0.0;
  };
  EXPECT_DOUBLE_EQ(value_of("reuse_ratio"), 0.25);
  EXPECT_DOUBLE_EQ(value_of("bytes_down"), 1234);
  EXPECT_DOUBLE_EQ(value_of("trial_ms"), 3);
}

TEST(Aggregate, KnownValues) {
  const Aggregate none = aggregate({});
  EXPECT_EQ(none.n, 0u);

  const Aggregate one = aggregate({42});
  EXPECT_EQ(one.n, 1u);
  EXPECT_DOUBLE_EQ(one.mean, 42);
  EXPECT_DOUBLE_EQ(one.median, 42);
  EXPECT_DOUBLE_EQ(one.sd, 0);
  EXPECT_DOUBLE_EQ(one.ci95_low, 42);
  EXPECT_DOUBLE_EQ(one.ci95_high, 42);

  // sd = sqrt(2); half width = t(1) x sqrt(2) / sqrt(2) = 12.70620474.
  const Aggregate two = aggregate({3, 1});
  EXPECT_DOUBLE_EQ(two.mean, 2);
  EXPECT_DOUBLE_EQ(two.median, 2);
  EXPECT_DOUBLE_EQ(two.min, 1);
  EXPECT_DOUBLE_EQ(two.max, 3);
  EXPECT_DOUBLE_EQ(two.sd, std::sqrt(2.0));
  EXPECT_NEAR(two.ci95_low, 2 - 12.70620474, 1e-9);
  EXPECT_NEAR(two.ci95_high, 2 + 12.70620474, 1e-9);

  // sd = sqrt(2.5); half width = 2.776445105 x sqrt(2.5 / 5).
  const Aggregate five = aggregate({5, 1, 4, 2, 3});
  EXPECT_DOUBLE_EQ(five.mean, 3);
  EXPECT_DOUBLE_EQ(five.median, 3);
  EXPECT_DOUBLE_EQ(five.sd, std::sqrt(2.5));
  EXPECT_NEAR(five.ci95_high - five.mean, 2.776445105 * std::sqrt(0.5), 1e-9);
  EXPECT_NEAR(five.mean - five.ci95_low, 2.776445105 * std::sqrt(0.5), 1e-9);

  EXPECT_DOUBLE_EQ(aggregate({4, 1, 3, 2}).median, 2.5);
}

TEST(Aggregate, StudentQuantiles) {
  EXPECT_DOUBLE_EQ(student_t_975(1), 12.70620474);
  EXPECT_DOUBLE_EQ(student_t_975(4), 2.776445105);
  EXPECT_DOUBLE_EQ(student_t_975(30), 2.042272456);
  EXPECT_NEAR(student_t_975(31), 2.039513446, 1e-5);  // beyond the table: the expansion
  EXPECT_NEAR(student_t_975(40), 2.021075390, 1e-5);
  EXPECT_NEAR(student_t_975(120), 1.979930405, 1e-6);
  EXPECT_NEAR(student_t_975(1'000'000), 1.959966357, 1e-8);  // z + (z^3 + z) / 4v
}

}  // namespace
}  // namespace satlink::simulator
