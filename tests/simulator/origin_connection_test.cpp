// The synthetic origin's connections: keep-alive policy, think time, occupancy and memory,
// the connection limit, TLS. Waits are on the event log or on socket reads, never on sleeps.
#include "origin_harness.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <thread>

namespace satlink::simulator {
namespace {

using namespace origin_test;
using namespace std::chrono_literals;
using test::ClientOptions;
using test::get;
using test::Response;
using test::TestClient;

TEST(Origin, KeepAliveServesRequestsOnOneConnectionInOrder) {
  Harness h;
  ClientOptions tiny = quick();
  tiny.tiny_writes = true;
  TestClient c(h.port(), tiny);
  c.send(get("/style.css"));
  read_verified(c, test_page().resources[0]);
  c.send(get("/app.js"));
  read_verified(c, test_page().resources[1]);
  c.shutdown_send();
  EXPECT_TRUE(c.peer_closed());
  EXPECT_EQ(h.close_reason(1), OriginCloseReason::peer_closed);
  EXPECT_EQ(h.close_of(1).a, 2);
  // The story of the connection, as the log tells it.
  std::vector<std::pair<OriginEvent, std::uint64_t>> story;
  for (const auto& e : h.log.events())
    if (!e.is(OriginEvent::occupancy))
      story.emplace_back(static_cast<OriginEvent>(e.kind), e.request);
  const std::vector<std::pair<OriginEvent, std::uint64_t>> expected{
      {OriginEvent::accept, 0},         {OriginEvent::request, 1},
      {OriginEvent::response_start, 1}, {OriginEvent::response_end, 1},
      {OriginEvent::idle, 1},           {OriginEvent::request, 2},
      {OriginEvent::response_start, 2}, {OriginEvent::response_end, 2},
      {OriginEvent::idle, 2},           {OriginEvent::close, 0}};
  EXPECT_EQ(story, expected);
}

TEST(Origin, KeepAliveOffAnswersConnectionCloseAndCloses) {
  Harness h([](OriginConfig& c) { c.keep_alive.enabled = false; });
  TestClient c(h.port(), quick());
  c.send(get("/style.css"));
  const Response r = c.read_response();
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.peer_closed());
  EXPECT_EQ(h.close_reason(1), OriginCloseReason::keep_alive_off);
}

TEST(Origin, ClientConnectionCloseIsHonoured) {
  Harness h;
  TestClient c(h.port(), quick());
  c.send(get("/style.css", "Connection: close\r\n"));
  EXPECT_EQ(c.read_response().header("connection"), "close");
  EXPECT_TRUE(c.peer_closed());
  EXPECT_EQ(h.close_reason(1), OriginCloseReason::client_asked);
}

TEST(Origin, KeepAliveTimeoutClosesAnIdleConnection) {
  Harness h([](OriginConfig& c) { c.keep_alive.timeout_ms = 100; });
  TestClient c(h.port(), quick());
  c.send(get("/style.css"));
  EXPECT_EQ(c.read_response().header("connection"), "");
  EXPECT_TRUE(c.peer_closed());
  const LogEvent close = h.close_of(1);
  EXPECT_EQ(static_cast<OriginCloseReason>(close.b), OriginCloseReason::keep_alive_timeout);
  const auto ends = h.events(OriginEvent::response_end);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_GE(close.t_ns - ends[0].t_ns, 100'000'000);
  EXPECT_LT(close.t_ns - ends[0].t_ns, 3'000'000'000);  // generous: a loaded machine
}

TEST(Origin, MaxRequestsClosesAfterTheLastAllowedResponse) {
  Harness h([](OriginConfig& c) { c.keep_alive.max_requests = 2; });
  TestClient c(h.port(), quick());
  // Three pipelined: the third is never answered.
  c.send(get("/style.css") + get("/app.js") + get("/"));
  EXPECT_EQ(c.read_response().header("connection"), "");
  const Response second = c.read_response();
  EXPECT_EQ(second.header("connection"), "close");
  EXPECT_EQ(second.body.size(), 30000u);
  EXPECT_EQ(c.read_until_close(), "");
  EXPECT_EQ(h.close_reason(1), OriginCloseReason::max_requests);
  EXPECT_EQ(h.close_of(1).a, 2);
}

TEST(Origin, Http10KeepsTheConnectionOnlyWhenAsked) {
  Harness h;
  {
    TestClient c(h.port(), quick());
    c.send("GET /style.css HTTP/1.0\r\n\r\n");
    EXPECT_EQ(c.read_response().header("connection"), "close");
    EXPECT_TRUE(c.peer_closed());
    EXPECT_EQ(h.close_reason(1), OriginCloseReason::client_asked);
  }
  TestClient c(h.port(), quick());
  c.send("GET /style.css HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(c.read_response().header("connection"), "keep-alive");
  c.send("GET /app.js HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  read_verified(c, test_page().resources[1]);
  EXPECT_EQ(h.origin->counters().accepted, 2u);
}

TEST(Origin, PipelinedRequestsAreServedInOrder) {
  Harness h;
  TestClient c(h.port(), quick());
  c.send(get("/app.js") + "HEAD /big.png HTTP/1.1\r\nHost: t\r\n\r\n" + get("/style.css") +
         get("/nope") + get("/"));
  read_verified(c, test_page().resources[1]);
  EXPECT_EQ(c.read_response(true).header("content-length"), std::to_string(kBig));
  read_verified(c, test_page().resources[0]);
  EXPECT_EQ(c.read_response().status, 404);
  EXPECT_EQ(c.read_response().body, page_html(test_page()));
  const auto starts = h.events(OriginEvent::response_start);
  ASSERT_EQ(starts.size(), 5u);
  for (std::size_t i = 0; i < starts.size(); ++i) EXPECT_EQ(starts[i].request, i + 1);
}

TEST(Origin, ThinkTimeDelaysTheResponse) {
  Harness h([](OriginConfig& c) { c.think.ms = 120; });
  TestClient c(h.port(), quick());
  auto t0 = std::chrono::steady_clock::now();
  c.send(get("/style.css"));  // the default think time
  c.read_response();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 120ms);
  t0 = std::chrono::steady_clock::now();
  c.send(get("/slow.js"));  // its own: 300 ms
  c.read_response();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);
  const auto requests = h.events(OriginEvent::request);
  const auto starts = h.events(OriginEvent::response_start);
  ASSERT_EQ(requests.size(), 2u);
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_GE(starts[0].t_ns - requests[0].t_ns, 120'000'000);
  EXPECT_GE(starts[1].t_ns - requests[1].t_ns, 300'000'000);
}

TEST(Origin, OccupancyAndMemoryFollowTheConnections) {
  Harness h([](OriginConfig& c) { c.memory = MemoryModel{"test", 100, 1000, "test"}; });
  auto last = [&] { return h.origin->occupancy().back(); };
  EXPECT_EQ(h.origin->occupancy().size(), 1u);  // the zero sample at start
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(std::make_unique<TestClient>(h.port(), quick()));
  // Connected, no request yet: active.
  ASSERT_TRUE(h.wait_occupancy(3, 0));
  EXPECT_EQ(last().active, 3u);
  EXPECT_EQ(last().memory_bytes, 3000);
  for (auto& c : clients) {
    c->send(get("/style.css"));
    c->read_response();
  }
  ASSERT_TRUE(h.wait_occupancy(0, 3));
  EXPECT_EQ(last().active, 0u);
  EXPECT_EQ(last().idle, 3u);
  EXPECT_EQ(last().memory_bytes, 300);
  clients.clear();
  ASSERT_TRUE(h.wait_occupancy(0, 0));
  EXPECT_EQ(h.events(OriginEvent::close).size(), 3u);
  const auto samples = h.origin->occupancy();
  EXPECT_EQ(samples.back().active + samples.back().idle, 0u);
  EXPECT_EQ(samples.back().memory_bytes, 0);
  // One event per sample after the first, with the same figures; every change is one step.
  const auto events = h.events(OriginEvent::occupancy);
  ASSERT_EQ(events.size() + 1, samples.size());
  for (std::size_t i = 1; i < samples.size(); ++i) {
    const auto& s = samples[i];
    EXPECT_EQ(s.memory_bytes, s.idle * 100.0 + s.active * 1000.0);
    EXPECT_EQ(events[i - 1].a, s.active);
    EXPECT_EQ(events[i - 1].b, s.idle);
    EXPECT_EQ(events[i - 1].c, static_cast<std::int64_t>(s.memory_bytes));
    EXPECT_EQ(events[i - 1].t_ns, s.t_ns);
    EXPECT_GE(s.t_ns, samples[i - 1].t_ns);
  }
}

TEST(Origin, MaxConnectionsHoldsTheThirdUntilOneCloses) {
  Harness h([](OriginConfig& c) { c.max_connections = 2; });
  auto c1 = std::make_unique<TestClient>(h.port(), quick());
  TestClient c2(h.port(), quick());
  c1->send(get("/style.css"));
  c1->read_response();
  c2.send(get("/style.css"));
  c2.read_response();
  TestClient c3(h.port(), quick());  // completes in the kernel's backlog
  c3.send(get("/app.js"));
  EXPECT_FALSE(h.wait_count(OriginEvent::accept, 3, 300ms));
  EXPECT_EQ(h.origin->counters().open, 2u);
  c1.reset();
  read_verified(c3, test_page().resources[1]);
  const auto accepts = h.events(OriginEvent::accept);
  ASSERT_EQ(accepts.size(), 3u);
  EXPECT_GE(accepts[2].t_ns, h.close_of(1).t_ns);
  EXPECT_EQ(accepts[2].a, 2);  // open connections, this one included
}

std::string tls_name(const ::testing::TestParamInfo<TlsVersion>& p) {
  return p.param == TlsVersion::v1_2 ? "Tls12" : "Tls13";
}

class OriginTls : public ::testing::TestWithParam<TlsVersion> {};

TEST_P(OriginTls, ServesOverTheConfiguredVersionOnlyAndResumes) {
  const TlsVersion version = GetParam();
  Harness h([&](OriginConfig& c) {
    c.tls = true;
    c.tls_version = version;
  });
  EXPECT_TRUE(h.origin->certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
  ClientOptions o = quick();
  o.tls = true;
  SSL_SESSION* session = nullptr;
  // `first` stays open: the test client frees its SSL in a way that makes the session
  // unresumable (as the proxy's TLS tests note).
  TestClient first(h.port(), o);
  first.send(get("/app.js"));
  read_verified(first, test_page().resources[1]);
  session = first.tls_session();
  ASSERT_TRUE(h.wait_count(OriginEvent::tls_handshake_end, 1));
  const LogEvent full = h.events(OriginEvent::tls_handshake_end)[0];
  EXPECT_EQ(full.a, 0);  // a full handshake
  EXPECT_EQ(full.b, version == TlsVersion::v1_2 ? TLS1_2_VERSION : TLS1_3_VERSION);
  EXPECT_EQ(h.events(OriginEvent::tls_handshake_start).size(), 1u);

  o.resume = session;
  {
    TestClient c(h.port(), o);
    c.send(get("/big.png"));
    read_verified(c, test_page().resources[2]);
    EXPECT_TRUE(c.tls_resumed());
  }
  SSL_SESSION_free(session);
  ASSERT_TRUE(h.wait_count(OriginEvent::tls_handshake_end, 2));
  EXPECT_EQ(h.events(OriginEvent::tls_handshake_end)[1].a, 1);

  ClientOptions other = quick();
  other.tls = true;
  other.tls_version = version == TlsVersion::v1_2 ? 13 : 12;
  EXPECT_THROW(TestClient(h.port(), other), std::runtime_error);
  ASSERT_TRUE(h.wait_count(OriginEvent::tls_handshake_end, 3));
  EXPECT_EQ(h.events(OriginEvent::tls_handshake_end)[2].a, -1);
  EXPECT_EQ(h.close_reason(3), OriginCloseReason::error);
}

INSTANTIATE_TEST_SUITE_P(Origin, OriginTls, ::testing::Values(TlsVersion::v1_2, TlsVersion::v1_3),
                         tls_name);

}  // namespace
}  // namespace satlink::simulator
