// Backends with several servers: balancing, maxconn with its queue, redispatch, routes,
// several worker threads.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <future>

#include "proxy_harness.hpp"

namespace satlink::test {
namespace {

using proxycore::Balance;
using proxycore::ProxyConfig;

proxycore::ServerConfig server(const char* name, std::uint16_t port, std::uint32_t maxconn = 0) {
  proxycore::ServerConfig s;
  s.name = name;
  s.port = port;
  s.maxconn = maxconn;
  return s;
}

ProxyConfig one_backend(std::vector<proxycore::ServerConfig> servers,
                        Balance balance = Balance::roundrobin) {
  ProxyConfig c;
  c.client.port = 0;
  c.timeouts.grace = std::chrono::milliseconds(500);
  proxycore::BackendConfig be;
  be.name = "app";
  be.balance = balance;
  be.servers = std::move(servers);
  c.backends.push_back(be);
  return c;
}

ProxyConfig two_servers(std::uint16_t a, std::uint16_t b, Balance balance) {
  return one_backend({server("a", a), server("b", b)}, balance);
}

// A port nothing listens on: bound, then closed.
std::uint16_t refused_port() {
  TestOrigin o;
  const auto p = o.port();
  o.stop();
  return p;
}

struct Running {
  explicit Running(const ProxyConfig& c) : proxy(c, &sink) { proxy.start(); }
  ~Running() {
    proxy.stop();
    proxy.wait();
  }
  RecordingSink sink;
  proxycore::Proxy proxy;
};

TEST(ProxyBalancing, RoundRobinAlternatesServers) {
  TestOrigin a, b;
  Running r(two_servers(a.port(), b.port(), Balance::roundrobin));
  for (int i = 0; i < 6; ++i) {
    TestClient client(r.proxy.port());
    client.send(get("/x", "Connection: close\r\n"));
    EXPECT_EQ(client.read_response().status, 200);
  }
  EXPECT_EQ(a.requests(), 3u);
  EXPECT_EQ(b.requests(), 3u);
  r.proxy.stop();  // access records are written after the last byte: read them when settled
  r.proxy.wait();
  const auto access = r.sink.access();
  ASSERT_EQ(access.size(), 6u);
  EXPECT_NE(access[0].server, access[1].server);
}

TEST(ProxyBalancing, LeastConnAvoidsTheBusyServer) {
  std::promise<void> release;
  auto released = release.get_future().share();
  TestOrigin a([&](const OriginRequest& req) {
    if (req.target == "/slow") released.wait();
    return OriginReply{};
  });
  TestOrigin b;
  Running r(two_servers(a.port(), b.port(), Balance::leastconn));
  TestClient slow(r.proxy.port());
  slow.send(get("/slow"));  // goes to a (first server, both idle), and stays there
  ASSERT_TRUE(r.sink.wait_for(proxycore::EventKind::request_sent, proxycore::Side::server, 1));
  for (int i = 0; i < 3; ++i) {
    TestClient client(r.proxy.port());
    client.send(get("/fast"));
    EXPECT_EQ(client.read_response().status, 200);
  }
  EXPECT_EQ(b.requests(), 3u);  // leastconn sent every fast request to the idle server
  release.set_value();
  EXPECT_EQ(slow.read_response().status, 200);
}

TEST(ProxyBalancing, RedispatchesWhenAServerRefuses) {
  TestOrigin b;
  Running r(two_servers(refused_port(), b.port(), Balance::roundrobin));
  for (int i = 0; i < 4; ++i) {
    TestClient client(r.proxy.port());
    client.send(get("/x"));
    EXPECT_EQ(client.read_response().status, 200);
  }
  EXPECT_EQ(b.requests(), 4u);
}

TEST(ProxyBalancing, MaxconnQueuesThenTimesOutWith503) {
  std::promise<void> release;
  auto released = release.get_future().share();
  TestOrigin a([&](const OriginRequest&) {
    released.wait();
    return OriginReply{};
  });
  ProxyConfig c = one_backend({server("a", a.port(), 1)});
  c.timeouts.queue = std::chrono::milliseconds(100);
  Running r(c);
  TestClient first(r.proxy.port());
  first.send(get("/1"));
  ASSERT_TRUE(r.sink.wait_for(proxycore::EventKind::request_sent, proxycore::Side::server, 1));
  TestClient second(r.proxy.port());
  second.send(get("/2"));
  const Response queued_out = second.read_response();  // after timeouts.queue
  EXPECT_EQ(queued_out.status, 503);
  EXPECT_EQ(r.sink.count(proxycore::EventKind::queue_enter, proxycore::Side::server), 1u);
  release.set_value();
  EXPECT_EQ(first.read_response().status, 200);
  EXPECT_EQ(r.proxy.counters().err_503, 1u);
  EXPECT_EQ(r.proxy.counters().queued, 1u);
}

TEST(ProxyBalancing, QueuedRequestGetsTheFreedSlot) {
  std::promise<void> release;
  auto released = release.get_future().share();
  TestOrigin a([&](const OriginRequest& req) {
    if (req.target == "/1") released.wait();
    return OriginReply{};
  });
  Running r(one_backend({server("a", a.port(), 1)}));
  TestClient first(r.proxy.port());
  first.send(get("/1"));
  ASSERT_TRUE(r.sink.wait_for(proxycore::EventKind::request_sent, proxycore::Side::server, 1));
  TestClient second(r.proxy.port());
  second.send(get("/2"));
  ASSERT_TRUE(r.sink.wait_for(proxycore::EventKind::queue_enter, proxycore::Side::server, 1));
  EXPECT_EQ(a.requests(), 0u);  // /1 is still held by the origin; /2 waits in the proxy
  release.set_value();
  EXPECT_EQ(first.read_response().status, 200);
  EXPECT_EQ(second.read_response().status, 200);
  EXPECT_EQ(a.requests(), 2u);
}

TEST(ProxyBalancing, FullQueueAnswers503AtOnce) {
  std::promise<void> release;
  auto released = release.get_future().share();
  TestOrigin a([&](const OriginRequest&) {
    released.wait();
    return OriginReply{};
  });
  ProxyConfig c = one_backend({server("a", a.port(), 1)});
  c.backends[0].queue_limit = 0;
  Running r(c);
  TestClient first(r.proxy.port());
  first.send(get("/1"));
  ASSERT_TRUE(r.sink.wait_for(proxycore::EventKind::request_sent, proxycore::Side::server, 1));
  TestClient second(r.proxy.port());
  second.send(get("/2"));
  EXPECT_EQ(second.read_response().status, 503);
  release.set_value();
  EXPECT_EQ(first.read_response().status, 200);
}

TEST(ProxyRoutes, HostAndPathPrefixPickTheBackend) {
  TestOrigin web, api;
  ProxyConfig c;
  c.client.port = 0;
  c.timeouts.grace = std::chrono::milliseconds(500);
  proxycore::BackendConfig w, a;
  w.name = "web";
  w.servers = {server("w", web.port())};
  a.name = "api";
  a.servers = {server("a", api.port())};
  c.backends = {w, a};
  c.routes = {{"", "/api/", "api"}, {"api.example", "", "api"}};
  c.default_backend = "web";
  Running r(c);
  TestClient client(r.proxy.port());
  client.send(get("/index.html"));
  EXPECT_EQ(client.read_response().status, 200);
  client.send(get("/api/users"));
  EXPECT_EQ(client.read_response().status, 200);
  client.send("GET / HTTP/1.1\r\nHost: API.example:8080\r\n\r\n");
  EXPECT_EQ(client.read_response().status, 200);
  EXPECT_EQ(web.requests(), 1u);
  EXPECT_EQ(api.requests(), 2u);
}

TEST(ProxyThreads, FourWorkersServeAndSumTheirCounters) {
  ProxyHarness h({}, [](ProxyConfig& c) { c.threads = 4; });
  for (int i = 0; i < 40; ++i) {
    TestClient client(h.port());
    client.send(get("/x"));
    EXPECT_EQ(client.read_response().status, 200);
  }
  h.stop();
  EXPECT_EQ(h.stopped_counters.client_conns_accepted, 40u);
  EXPECT_EQ(h.stopped_counters.requests, 40u);
  EXPECT_EQ(h.stopped_counters.client_conns_open, 0u);
}

TEST(ProxyStop, GracefulStopLetsTheInFlightRequestFinish) {
  std::promise<void> release;
  auto released = release.get_future().share();
  ProxyHarness h([&](const OriginRequest&) {
    released.wait();
    return OriginReply{};
  });
  TestClient busy(h.port());
  busy.send(get("/slow"));
  ASSERT_TRUE(h.sink.wait_for(proxycore::EventKind::request_sent, proxycore::Side::server, 1));
  TestClient idle(h.port());
  ASSERT_TRUE(h.sink.wait_for(proxycore::EventKind::client_accept, proxycore::Side::client, 2));
  h.proxy->stop();
  EXPECT_TRUE(idle.peer_closed());  // the idle connection closes at once
  release.set_value();
  const Response r = busy.read_response();  // the in-flight one completes
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), "close");
  h.proxy->wait();
}

}  // namespace
}  // namespace satlink::test
