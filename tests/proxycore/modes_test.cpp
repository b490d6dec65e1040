// The heart of the product: client-side and server-side keep-alive switched independently.
// A page load of 31 requests (HTML + 30 objects), counted on both sides.
#include <gtest/gtest.h>

#include "proxy_harness.hpp"

namespace satlink::test {
namespace {

using proxycore::ReusePolicy;

struct ModeCase {
  const char* name;
  bool client_keep_alive;
  bool server_keep_alive;
  ReusePolicy reuse;
  std::size_t client_conns;
  std::size_t origin_conns;
  std::uint64_t reused;
};

class KeepAliveModes : public ::testing::TestWithParam<ModeCase> {};

std::string mode_name(const ::testing::TestParamInfo<ModeCase>& p) { return p.param.name; }

TEST_P(KeepAliveModes, ThirtyOneRequestsOpenTheExpectedConnections) {
  const ModeCase m = GetParam();
  ProxyHarness h({}, [&](proxycore::ProxyConfig& c) {
    c.client.keep_alive = m.client_keep_alive;
    c.server.keep_alive = m.server_keep_alive;
    c.server.reuse = m.reuse;
  });
  std::unique_ptr<TestClient> client;
  for (int i = 0; i < 31; ++i) {
    if (!client) client = std::make_unique<TestClient>(h.port());
    client->send(get(i == 0 ? "/index.html" : "/img" + std::to_string(i) + ".jpg"));
    const Response r = client->read_response();
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body, "ok");
    if (!m.client_keep_alive) {
      EXPECT_EQ(r.header("connection"), "close");
      EXPECT_TRUE(client->peer_closed());
      client.reset();
    } else {
      EXPECT_EQ(r.header("connection"), "");
    }
  }
  client.reset();
  EXPECT_EQ(h.origin.requests(), 31u);
  EXPECT_EQ(h.origin.connections(), m.origin_conns);
  h.stop();
  const auto& c = h.stopped_counters;
  EXPECT_EQ(c.client_conns_accepted, m.client_conns);
  EXPECT_EQ(c.server_conns_opened, m.origin_conns);
  EXPECT_EQ(c.server_conns_reused, m.reused);
  EXPECT_EQ(c.requests, 31u);
  EXPECT_EQ(c.responses, 31u);
  // The event log tells the same story as the counters.
  EXPECT_EQ(h.sink.count(proxycore::EventKind::client_accept, proxycore::Side::client),
            m.client_conns);
  EXPECT_EQ(h.sink.count(proxycore::EventKind::server_connect_end, proxycore::Side::server),
            m.origin_conns);
  EXPECT_EQ(h.sink.count(proxycore::EventKind::server_reuse, proxycore::Side::server), m.reused);
  // Every origin request said what the server-side mode implies.
  for (const auto& req : h.origin.received())
    EXPECT_EQ(req.header("connection"), m.server_keep_alive ? "" : "close");
}

INSTANTIATE_TEST_SUITE_P(
    Proxy, KeepAliveModes,
    ::testing::Values(
        ModeCase{"KeepAliveBothSides", true, true, ReusePolicy::safe, 1, 1, 30},
        ModeCase{"HttpServerClose", true, false, ReusePolicy::safe, 1, 31, 0},
        ModeCase{"HttpClose", false, false, ReusePolicy::safe, 31, 31, 0},
        // HAProxy's safe rule: a client connection's first request never takes another's
        // connection, so with client keep-alive off nothing is reused...
        ModeCase{"ClientCloseServerKeepAliveSafe", false, true, ReusePolicy::safe, 31, 31, 0},
        // ...while `always` (nginx upstream keepalive) reuses across clients.
        ModeCase{"ClientCloseServerKeepAliveAlways", false, true, ReusePolicy::always, 31, 1, 30},
        ModeCase{"KeepAliveBothSidesNever", true, true, ReusePolicy::never, 1, 1, 30}),
    mode_name);

TEST(KeepAliveModes, Http10ClientKeepsConnectionOnlyWhenAsked) {
  ProxyHarness h;
  TestClient client(h.port());
  client.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  Response r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), "keep-alive");
  client.send("GET /b HTTP/1.0\r\n\r\n");
  r = client.read_response();
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(client.peer_closed());
  // Server side still HTTP/1.1 keep-alive: one origin connection for both.
  EXPECT_EQ(h.origin.connections(), 1u);
  for (const auto& req : h.origin.received()) EXPECT_EQ(req.version, 11);
}

TEST(KeepAliveModes, MaxRequestsPerClientConnection) {
  ProxyHarness h({}, [](proxycore::ProxyConfig& c) { c.client.max_requests = 3; });
  TestClient client(h.port());
  for (int i = 1; i <= 3; ++i) {
    client.send(get("/x"));
    const Response r = client.read_response();
    EXPECT_EQ(r.header("connection"), i == 3 ? "close" : "");
  }
  EXPECT_TRUE(client.peer_closed());
}

TEST(KeepAliveModes, ServerCloseDoesNotCloseClient) {
  ProxyHarness h([](const OriginRequest&) {
    OriginReply r;
    r.close = true;
    return r;
  });
  TestClient client(h.port());
  for (int i = 0; i < 3; ++i) {
    client.send(get("/x"));
    EXPECT_EQ(client.read_response().header("connection"), "");
  }
  EXPECT_EQ(h.origin.connections(), 3u);
}

TEST(KeepAliveModes, IdleClientConnectionClosedAfterKeepAliveTimeout) {
  ProxyHarness h({}, [](proxycore::ProxyConfig& c) {
    c.timeouts.http_keep_alive = std::chrono::milliseconds(100);
  });
  TestClient client(h.port());
  client.send(get("/x"));
  EXPECT_EQ(client.read_response().status, 200);
  EXPECT_TRUE(client.peer_closed());  // blocks until the proxy closes (test timeout 10 s)
}

TEST(KeepAliveModes, IdlePooledConnectionClosedAfterPoolTimeout) {
  ProxyHarness h({}, [](proxycore::ProxyConfig& c) {
    c.timeouts.pool_idle = std::chrono::milliseconds(50);
  });
  {
    TestClient client(h.port());
    client.send(get("/x"));
    EXPECT_EQ(client.read_response().status, 200);
  }
  // The pool's idle timer closes the origin connection without any client activity.
  EXPECT_TRUE(h.sink.wait_for(proxycore::EventKind::server_close, proxycore::Side::server, 1));
  EXPECT_EQ(h.sink.count(proxycore::EventKind::server_close, proxycore::Side::server), 1u);
}

}  // namespace
}  // namespace satlink::test
