// HTTP/1.1 features through the proxy on real sockets: pipelining, chunked bodies both ways,
// bodiless responses, 100-continue, the 101 tunnel, hop-by-hop fields, the pool race retry,
// absolute-form targets, access-record timers, and streaming of large bodies with bounded
// memory. Expectations come from RFC 9110/9112 and the proxy's documented behaviour.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proxy_harness.hpp"

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kUnderAsan = true;
#else
constexpr bool kUnderAsan = false;
#endif

namespace satlink::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using proxycore::EventKind;
using proxycore::Side;

// ---------------------------------------------------------------------------------------------
// Helpers

// The resident set of this process in KiB (the proxy, the origin and the client all run here).
std::int64_t vm_rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  return -1;
}

// Every value of a field the origin received, in order, joined with ", " (one list).
std::string joined(const OriginRequest& r, std::string_view name) {
  std::string out;
  for (const auto& [k, v] : r.headers)
    if (beast::iequals(k, name)) out += (out.empty() ? "" : ", ") + v;
  return out;
}

std::string chunk(std::string_view data) {
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
  return size_line + std::string(data) + "\r\n";
}

std::string pattern(std::uint64_t offset, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = pattern_byte(offset + i);
  return s;
}

// Compares big bodies without printing them: sizes and the first differing offset.
::testing::AssertionResult same_bytes(const std::string& got, const std::string& want) {
  if (got == want) return ::testing::AssertionSuccess();
  std::size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  return ::testing::AssertionFailure() << "got " << got.size() << " bytes, want " << want.size()
                                       << ", first difference at offset " << i << ": got \""
                                       << got.substr(i, 16) << "\"";
}

// Names the target in the body, so a response says which request it answers.
OriginReply echo_target(const OriginRequest& r) {
  OriginReply rep;
  rep.body = r.method + " " + r.target + (r.body.empty() ? "" : " [" + r.body + "]");
  return rep;
}

// A one-connection origin on plain asio sync sockets, for what TestOrigin cannot do (relay bytes
// after a 101, count a huge body without keeping it). The session runs in its own thread.
class RawOrigin {
 public:
  using Session = std::function<void(tcp::socket&)>;
  explicit RawOrigin(Session session) : session_(std::move(session)) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    thread_ = std::thread([this] { run(); });
  }
  ~RawOrigin() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      if (conn_fd_ >= 0) ::shutdown(conn_fd_, SHUT_RDWR);
    }
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    thread_.join();
  }
  RawOrigin(const RawOrigin&) = delete;
  RawOrigin& operator=(const RawOrigin&) = delete;
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  void run() {
    beast::error_code ec;
    tcp::socket sock(ioc_);
    acceptor_.accept(sock, ec);
    if (ec) return;
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      conn_fd_ = sock.native_handle();
    }
    session_(sock);
    {
      std::lock_guard lock(mutex_);
      conn_fd_ = -1;
    }
    sock.shutdown(tcp::socket::shutdown_both, ec);
    sock.close(ec);
  }

  Session session_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  std::thread thread_;
  std::mutex mutex_;
  bool stopped_ = false;
  int conn_fd_ = -1;
};

// Points the harness's only server at another port (a RawOrigin).
std::function<void(proxycore::ProxyConfig&)> to_port(std::uint16_t port) {
  return [port](proxycore::ProxyConfig& c) { c.backends[0].servers[0].port = port; };
}

// ---------------------------------------------------------------------------------------------
// Pipelining

void pipelined_five(ClientOptions options) {
  ProxyHarness h([](const OriginRequest& r) {
    OriginReply rep = echo_target(r);
    if (r.method == "HEAD") rep.raw = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n";
    return rep;
  });
  TestClient client(h.port(), options);
  const std::string requests =
      get("/one") +
      "POST /two HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello" +
      get("/three") +
      "HEAD /four HTTP/1.1\r\nHost: test\r\n\r\n" +
      get("/five");
  client.send(requests);  // one write (or 1..3-byte writes in tiny mode)
  const char* expected[] = {"GET /one", "POST /two [hello]", "GET /three", "", "GET /five"};
  for (const char* want : expected) {
    const bool head = *want == '\0';
    const Response r = client.read_response(head);
    EXPECT_EQ(r.status, 200) << want;
    EXPECT_EQ(r.body, want);
    if (head) {
      EXPECT_EQ(r.header("content-length"), "9");
    }
  }
  // The connection is still usable afterwards.
  client.send(get("/six"));
  EXPECT_EQ(client.read_response().body, "GET /six");
  const auto got = h.origin.received();
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0].target, "/one");
  EXPECT_EQ(got[1].target, "/two");
  EXPECT_EQ(got[3].method, "HEAD");
  EXPECT_EQ(got[4].target, "/five");
  EXPECT_EQ(h.origin.connections(), 1u);
}

TEST(ProxyHttp, PipelinedRequestsInOneWriteAnsweredInOrder) { pipelined_five({}); }

TEST(ProxyHttp, PipelinedRequestsInTinyWritesAnsweredInOrder) {
  pipelined_five(ClientOptions{.tiny_writes = true});
}

// ---------------------------------------------------------------------------------------------
// Chunked bodies

TEST(ProxyHttp, ChunkedRequestBodyReachesOriginComplete) {
  ProxyHarness h([](const OriginRequest& r) {
    OriginReply rep;
    rep.body = std::to_string(r.body.size());
    return rep;
  });
  const std::string a = pattern(0, 5), b = pattern(5, 40000), c = pattern(40005, 1);
  TestClient client(h.port());
  client.send("POST /up HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n");
  client.send(chunk(a) + chunk(b));
  client.send(chunk(c) + "0\r\n\r\n");
  const Response r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "40006");
  const auto got = h.origin.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].header("transfer-encoding"), "chunked");
  EXPECT_EQ(got[0].count("content-length"), 0u);
  EXPECT_TRUE(same_bytes(got[0].body, a + b + c));
}

TEST(ProxyHttp, ChunkedResponseReachesClientCompleteRechunked) {
  const std::string body = pattern(0, 100000);
  ProxyHarness h([&](const OriginRequest&) {
    OriginReply rep;
    rep.body = body;
    rep.chunked = true;
    return rep;
  });
  TestClient client(h.port());
  client.send(get("/chunked"));
  const Response r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.header("content-length"), "");
  EXPECT_TRUE(same_bytes(r.body, body));
  // The connection serves another request.
  client.send(get("/again"));
  EXPECT_TRUE(same_bytes(client.read_response().body, body));
}

TEST(ProxyHttp, UnknownLengthResponseIsChunkedForHttp11KeepAliveClient) {
  const std::string body = pattern(0, 50000);
  ProxyHarness h([&](const OriginRequest& r) {
    OriginReply rep;
    if (r.target == "/unknown") {
      rep.body = body;
      rep.no_length = true;
    }
    return rep;
  });
  TestClient client(h.port());
  client.send(get("/unknown"));
  const Response r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.header("connection"), "");
  EXPECT_TRUE(same_bytes(r.body, body));
  // Still open: another request on the same client connection.
  client.send(get("/next"));
  const Response r2 = client.read_response();
  EXPECT_EQ(r2.status, 200);
  EXPECT_EQ(r2.body, "ok");
  h.stop();
  EXPECT_EQ(h.stopped_counters.client_conns_accepted, 1u);
}

TEST(ProxyHttp, UnknownLengthResponseToHttp10ClientEndsWithClose) {
  const std::string body = pattern(0, 50000);
  ProxyHarness h([&](const OriginRequest&) {
    OriginReply rep;
    rep.body = body;
    rep.no_length = true;
    return rep;
  });
  for (const char* request : {"GET /a HTTP/1.0\r\n\r\n",
                              "GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"}) {
    TestClient client(h.port());
    client.send(request);
    const Response r = client.read_response();  // its end is the close
    EXPECT_EQ(r.status, 200) << request;
    EXPECT_FALSE(r.chunked) << request;
    EXPECT_EQ(r.header("content-length"), "") << request;
    EXPECT_EQ(r.header("connection"), "close") << request;
    EXPECT_TRUE(same_bytes(r.body, body)) << request;
    EXPECT_TRUE(client.peer_closed()) << request;
  }
}

// ---------------------------------------------------------------------------------------------
// Responses without a body

TEST(ProxyHttp, HeadResponseHasLengthButNoBody) {
  // A correct origin: HEAD gets the GET's Content-Length and no body (TestOrigin would send one).
  ProxyHarness h([](const OriginRequest& r) {
    OriginReply rep;
    if (r.method == "HEAD")
      rep.raw = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1234\r\n\r\n";
    else
      rep.body = "after-head";
    return rep;
  });
  TestClient client(h.port());
  for (int round = 0; round < 2; ++round) {
    client.send("HEAD /doc HTTP/1.1\r\nHost: test\r\n\r\n");
    const Response r = client.read_response(/*head_request=*/true);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-length"), "1234");
    EXPECT_EQ(r.header("transfer-encoding"), "");
    EXPECT_EQ(r.body, "");
    // A stray body byte would corrupt this response.
    client.send(get("/doc"));
    const Response r2 = client.read_response();
    EXPECT_EQ(r2.status, 200);
    EXPECT_EQ(r2.body, "after-head");
  }
  EXPECT_EQ(h.origin.connections(), 1u);  // the server connection survived the HEADs too
}

TEST(ProxyHttp, NoContentAndNotModifiedKeepTheConnection) {
  ProxyHarness h([](const OriginRequest& r) {
    OriginReply rep;
    if (r.target == "/204") rep.status = 204;
    // A 304 may carry the representation's Content-Length; it still has no body.
    if (r.target == "/304")
      rep.raw = "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 100\r\n\r\n";
    if (r.target == "/after") rep.body = "after";
    return rep;
  });
  TestClient client(h.port());
  for (int round = 0; round < 2; ++round) {
    client.send(get("/204"));
    Response r = client.read_response();
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(r.header("transfer-encoding"), "");
    EXPECT_EQ(r.header("connection"), "");
    client.send(get("/304", "If-None-Match: \"v1\"\r\n"));
    r = client.read_response();
    EXPECT_EQ(r.status, 304);
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(r.header("etag"), "\"v1\"");
    EXPECT_EQ(r.header("transfer-encoding"), "");
    EXPECT_EQ(r.header("connection"), "");
    client.send(get("/after"));
    r = client.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "after");
  }
  EXPECT_EQ(h.origin.connections(), 1u);
  h.stop();
  EXPECT_EQ(h.stopped_counters.client_conns_accepted, 1u);
}

// ---------------------------------------------------------------------------------------------
// Expect: 100-continue

TEST(ProxyHttp, ExpectContinueForwardsInterimThenBody) {
  ProxyHarness h(echo_target);
  TestClient client(h.port());
  client.send(
      "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
  // The origin answers 100 as soon as it has the head; the body has not been sent yet.
  const Response interim = client.read_response();
  EXPECT_EQ(interim.status, 100);
  EXPECT_EQ(interim.body, "");
  EXPECT_EQ(h.origin.requests(), 0u);
  client.send("hello world");
  const Response r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /upload [hello world]");
  const auto got = h.origin.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "hello world");
  // Kept alive afterwards.
  client.send(get("/next"));
  EXPECT_EQ(client.read_response().body, "GET /next");
}

// ---------------------------------------------------------------------------------------------
// 101 Switching Protocols: a tunnel

constexpr std::string_view kSwitching =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n";

// Reads the upgrade request, answers 101 (+ `greeting`), then echoes until EOF.
RawOrigin::Session echo_after_101(std::promise<std::string>& head_seen, std::string greeting) {
  return [&head_seen, greeting](tcp::socket& s) {
    std::string buf;
    beast::error_code ec;
    const std::size_t n = asio::read_until(s, asio::dynamic_buffer(buf), "\r\n\r\n", ec);
    if (ec) {
      head_seen.set_value("");
      return;
    }
    head_seen.set_value(buf.substr(0, n));
    buf.erase(0, n);
    asio::write(s, asio::buffer(std::string(kSwitching) + greeting), ec);
    if (!buf.empty()) asio::write(s, asio::buffer(buf), ec);  // bytes that came with the head
    char data[4096];
    while (!ec) {
      const std::size_t got = s.read_some(asio::buffer(data), ec);
      if (got > 0) asio::write(s, asio::buffer(data, got), ec);
    }
  };
}

TEST(ProxyHttp, UpgradeTunnelRelaysBytesBothWays) {
  std::promise<std::string> head_seen;
  RawOrigin origin(echo_after_101(head_seen, ""));
  ProxyHarness h({}, to_port(origin.port()));
  TestClient client(h.port());
  client.send("GET /chat HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
  const Response r = client.read_response();
  EXPECT_EQ(r.status, 101);
  EXPECT_EQ(r.header("upgrade"), "echo");
  EXPECT_TRUE(beast::iequals(r.header("connection"), "upgrade")) << r.header("connection");
  auto head_future = head_seen.get_future();
  ASSERT_EQ(head_future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const std::string head = head_future.get();
  EXPECT_NE(head.find("Upgrade: echo\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Connection: upgrade\r\n"), std::string::npos) << head;

  client.send("hello");
  EXPECT_EQ(client.read_exactly(5), "hello");
  const std::string big = pattern(0, 200000);
  client.send(big);
  EXPECT_TRUE(same_bytes(client.read_exactly(big.size()), big));
  client.send("bye");
  EXPECT_EQ(client.read_exactly(3), "bye");
  // Half-close travels through: the origin sees EOF, closes, and the client sees the close.
  client.shutdown_send();
  EXPECT_EQ(client.read_until_close(), "");
  EXPECT_TRUE(h.sink.wait_for(EventKind::tunnel_start, Side::client, 1));
  EXPECT_EQ(h.sink.count(EventKind::tunnel_start, Side::client), 1u);
  EXPECT_TRUE(h.sink.wait_for(EventKind::client_close, Side::client, 1));
}

TEST(ProxyHttp, UpgradeTunnelCarriesBytesThatArriveWithTheHeads) {
  std::promise<std::string> head_seen;
  RawOrigin origin(echo_after_101(head_seen, "welcome;"));
  ProxyHarness h({}, to_port(origin.port()));
  TestClient client(h.port());
  // The first tunnel bytes ride in the same write as the upgrade request.
  client.send(
      "GET /chat HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly;");
  const Response r = client.read_response();
  EXPECT_EQ(r.status, 101);
  EXPECT_EQ(client.read_exactly(14), "welcome;early;");
  client.send("late");
  EXPECT_EQ(client.read_exactly(4), "late");
  client.shutdown_send();
  EXPECT_EQ(client.read_until_close(), "");
  EXPECT_EQ(h.sink.count(EventKind::tunnel_start, Side::client), 1u);
}

// ---------------------------------------------------------------------------------------------
// Hop-by-hop fields, Via, X-Forwarded-For

TEST(ProxyHttp, HopByHopRequestFieldsNeverReachOrigin) {
  ProxyHarness h;
  TestClient client(h.port());
  // With "keep-alive" named in Connection and without: the fixed hop-by-hop set is dropped
  // whether or not Connection names its members.
  const char* connection_values[] = {"keep-alive, X-Secret", "X-Secret"};
  for (const char* connection : connection_values) {
    client.send(std::string("GET /hop HTTP/1.1\r\nHost: test\r\n") +
                "Connection: " + connection + "\r\n"
                "Keep-Alive: timeout=5\r\n"
                "Proxy-Connection: keep-alive\r\n"
                "TE: trailers\r\n"
                "Trailer: X-Checksum\r\n"
                "Upgrade: h2c\r\n"  // no "upgrade" in Connection: no tunnel, just a field to drop
                "X-Secret: 1\r\n"
                "X-Public: yes\r\n"
                "Via: 1.0 upstream\r\n"
                "X-Forwarded-For: 10.1.2.3\r\n"
                "\r\n");
    const Response r = client.read_response();
    EXPECT_EQ(r.status, 200) << connection;
  }
  const auto got = h.origin.received();
  ASSERT_EQ(got.size(), 2u);
  for (const auto& req : got) {
    SCOPED_TRACE(connection_values[req.index_on_connection - 1]);
    for (const char* name :
         {"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "x-secret"})
      EXPECT_EQ(req.count(name), 0u) << name << ": " << req.header(name);
    EXPECT_EQ(req.header("x-public"), "yes");
    EXPECT_EQ(req.header("host"), "test");
    EXPECT_EQ(joined(req, "via"), "1.0 upstream, 1.1 satlink");
    EXPECT_EQ(joined(req, "x-forwarded-for"), "10.1.2.3, 127.0.0.1");
  }
  // The client connection is not a tunnel: it serves another request.
  client.send(get("/next"));
  EXPECT_EQ(client.read_response().status, 200);
}

TEST(ProxyHttp, ViaAndForwardedForAddedWhenAbsent) {
  ProxyHarness h;
  TestClient client(h.port());
  client.send(get("/plain"));
  const Response r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("via"), "1.1 satlink");
  client.send("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(client.read_response().status, 200);
  const auto got = h.origin.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(joined(got[0], "via"), "1.1 satlink");
  EXPECT_EQ(joined(got[0], "x-forwarded-for"), "127.0.0.1");
  EXPECT_EQ(joined(got[1], "via"), "1.0 satlink");  // the client's protocol version
}

TEST(ProxyHttp, ViaAndForwardedForNotAddedWhenDisabled) {
  ProxyHarness h({}, [](proxycore::ProxyConfig& c) {
    c.client.add_via = false;
    c.client.add_x_forwarded_for = false;
  });
  TestClient client(h.port());
  client.send(get("/none"));
  Response r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("via"), "");
  client.send(get("/theirs", "Via: 1.0 upstream\r\nX-Forwarded-For: 10.1.2.3\r\n"));
  r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("via"), "");
  const auto got = h.origin.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].count("via"), 0u);
  EXPECT_EQ(got[0].count("x-forwarded-for"), 0u);
  EXPECT_EQ(joined(got[1], "via"), "1.0 upstream");  // passed through untouched
  EXPECT_EQ(joined(got[1], "x-forwarded-for"), "10.1.2.3");
}

TEST(ProxyHttp, ViaAndForwardedForKeepEveryExistingLine) {
  // RFC 9110 5.3: repeated field lines form one list; a proxy appends to the whole list.
  ProxyHarness h;
  TestClient client(h.port());
  client.send(get("/multi",
                  "Via: 1.0 first\r\nVia: 1.1 second\r\n"
                  "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\n"));
  EXPECT_EQ(client.read_response().status, 200);
  const auto got = h.origin.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(joined(got[0], "via"), "1.0 first, 1.1 second, 1.1 satlink");
  EXPECT_EQ(joined(got[0], "x-forwarded-for"), "10.0.0.1, 10.0.0.2, 127.0.0.1");
}

TEST(ProxyHttp, HopByHopResponseFieldsNeverReachClient) {
  // Keep-Alive with and without "keep-alive" named in Connection.
  ProxyHarness h([](const OriginRequest& r) {
    OriginReply rep;
    rep.headers = {{"Connection", r.index_on_connection == 1 ? "keep-alive, X-Origin-Hop"
                                                             : "X-Origin-Hop"},
                   {"Keep-Alive", "timeout=5, max=100"},
                   {"Proxy-Connection", "keep-alive"},
                   {"X-Origin-Hop", "1"},
                   {"X-End", "2"}};
    return rep;
  });
  TestClient client(h.port());
  for (int i = 0; i < 2; ++i) {
    client.send(get("/r"));
    const Response r = client.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "ok");
    for (const char* name : {"keep-alive", "x-origin-hop", "proxy-connection", "connection"})
      EXPECT_EQ(r.header(name), "") << name;
    EXPECT_EQ(r.header("x-end"), "2");
  }
}

// ---------------------------------------------------------------------------------------------
// The pool race: the origin closes a kept-alive connection just as the next request goes out.

OriginReply drop_second_on_connection(const OriginRequest& r) {
  OriginReply rep = echo_target(r);
  if (r.index_on_connection == 2) rep.drop = true;
  return rep;
}

TEST(ProxyHttp, PoolRaceIdempotentRequestIsRetriedOnFreshConnection) {
  ProxyHarness h(drop_second_on_connection);
  TestClient client(h.port());
  client.send(get("/first"));
  Response r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /first");
  client.send(get("/second"));
  r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /second");
  EXPECT_EQ(h.origin.connections(), 2u);
  EXPECT_EQ(h.origin.requests(), 3u);  // /first, /second dropped, /second again
  h.stop();
  EXPECT_EQ(h.stopped_counters.retries, 1u);
  EXPECT_EQ(h.stopped_counters.err_502, 0u);
  EXPECT_EQ(h.sink.count(EventKind::retry, Side::server), 1u);
  const auto access = h.sink.access();
  ASSERT_EQ(access.size(), 2u);
  EXPECT_FALSE(access[0].retried);
  EXPECT_TRUE(access[1].retried);
  EXPECT_EQ(access[1].status, 200);
  EXPECT_EQ(access[1].target, "/second");
  EXPECT_EQ(access[1].error, proxycore::ErrorKind::none);
}

TEST(ProxyHttp, PoolRaceRequestWithBodyIsNotRetried) {
  ProxyHarness h(drop_second_on_connection);
  {
    TestClient client(h.port());
    client.send(get("/first"));
    EXPECT_EQ(client.read_response().status, 200);
    client.send("POST /second HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello");
    const Response r = client.read_response();
    EXPECT_EQ(r.status, 502);
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_TRUE(client.peer_closed());
  }  // closed here, so the proxy's lingering close ends at once
  EXPECT_EQ(h.origin.requests(), 2u);  // the POST reached the origin once, and only once
  EXPECT_EQ(h.origin.connections(), 1u);
  h.stop();
  EXPECT_EQ(h.stopped_counters.retries, 0u);
  EXPECT_EQ(h.stopped_counters.err_502, 1u);
  EXPECT_EQ(h.sink.count(EventKind::retry, Side::server), 0u);
  const auto access = h.sink.access();
  ASSERT_EQ(access.size(), 2u);
  EXPECT_FALSE(access[1].retried);
  EXPECT_EQ(access[1].status, 502);
  EXPECT_EQ(access[1].error, proxycore::ErrorKind::bad_gateway);
}

// Every server connection opened is closed by the end: the server_conns_open gauge returns to 0
// and there is one server_close event per connection.
void expect_server_side_balanced(ProxyHarness& h, std::uint64_t opened) {
  h.stop();
  EXPECT_EQ(h.stopped_counters.server_conns_opened, opened);
  EXPECT_EQ(h.stopped_counters.server_conns_open, 0u);
  EXPECT_EQ(h.stopped_counters.server_conns_idle, 0u);
  EXPECT_EQ(h.sink.count(EventKind::server_close, Side::server), opened);
}

TEST(ProxyHttp, ServerConnectionGaugeBalancesAfterRetry) {
  ProxyHarness h(drop_second_on_connection);
  {
    TestClient client(h.port());
    client.send(get("/first"));
    EXPECT_EQ(client.read_response().status, 200);
    client.send(get("/second"));
    EXPECT_EQ(client.read_response().status, 200);
  }
  expect_server_side_balanced(h, 2);  // the dropped connection and the fresh one
}

TEST(ProxyHttp, ServerConnectionGaugeBalancesAfterBadGateway) {
  ProxyHarness h(drop_second_on_connection);
  {
    TestClient client(h.port());
    client.send(get("/first"));
    EXPECT_EQ(client.read_response().status, 200);
    client.send("POST /second HTTP/1.1\r\nHost: test\r\nContent-Length: 1\r\n\r\nx");
    EXPECT_EQ(client.read_response().status, 502);
  }
  expect_server_side_balanced(h, 1);
}

TEST(ProxyHttp, ServerConnectionGaugeBalancesAfterTunnel) {
  std::promise<std::string> head_seen;
  RawOrigin origin(echo_after_101(head_seen, ""));
  ProxyHarness h({}, to_port(origin.port()));
  {
    TestClient client(h.port());
    client.send("GET /t HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
    EXPECT_EQ(client.read_response().status, 101);
    client.send("x");
    EXPECT_EQ(client.read_exactly(1), "x");
    client.shutdown_send();
    EXPECT_EQ(client.read_until_close(), "");
  }
  EXPECT_TRUE(h.sink.wait_for(EventKind::client_close, Side::client, 1));
  expect_server_side_balanced(h, 1);
}

// ---------------------------------------------------------------------------------------------
// Absolute-form targets

TEST(ProxyHttp, AbsoluteFormTargetReachesOriginAsOriginForm) {
  ProxyHarness h;
  TestClient client(h.port());
  client.send("GET http://example.test/path HTTP/1.1\r\nHost: example.test\r\n\r\n");
  EXPECT_EQ(client.read_response().status, 200);
  // The authority wins over a different Host (RFC 9112 3.2.2).
  client.send("GET http://example.test:8081/a/b?x=1 HTTP/1.1\r\nHost: other.test\r\n\r\n");
  EXPECT_EQ(client.read_response().status, 200);
  client.send("GET http://example.test HTTP/1.1\r\nHost: example.test\r\n\r\n");
  EXPECT_EQ(client.read_response().status, 200);
  const auto got = h.origin.received();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].target, "/path");
  EXPECT_EQ(got[0].header("host"), "example.test");
  EXPECT_EQ(got[0].count("host"), 1u);
  EXPECT_EQ(got[1].target, "/a/b?x=1");
  EXPECT_EQ(got[1].header("host"), "example.test:8081");
  EXPECT_EQ(got[1].count("host"), 1u);
  EXPECT_EQ(got[2].target, "/");
  EXPECT_EQ(got[2].header("host"), "example.test");
}

TEST(ProxyHttp, AbsoluteFormTargetWithQueryButNoPath) {
  ProxyHarness h;
  TestClient client(h.port());
  client.send("GET http://example.test?q=1 HTTP/1.1\r\nHost: example.test\r\n\r\n");
  EXPECT_EQ(client.read_response().status, 200);
  const auto got = h.origin.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].target, "/?q=1");  // RFC 9112 3.2.1: empty path becomes "/"
  EXPECT_EQ(got[0].header("host"), "example.test");
}

// ---------------------------------------------------------------------------------------------
// Access records

TEST(ProxyHttp, AccessRecordTimersForNewAndReusedServerConnection) {
  ProxyHarness h;
  {
    TestClient client(h.port());
    client.send(get("/a"));
    EXPECT_EQ(client.read_response().status, 200);
    client.send(get("/b"));
    EXPECT_EQ(client.read_response().status, 200);
  }
  h.stop();  // every access record is final
  const auto access = h.sink.access();
  ASSERT_EQ(access.size(), 2u);
  for (const auto& a : access) {
    SCOPED_TRACE(a.target);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.method, "GET");
    EXPECT_EQ(a.backend, "origin");
    EXPECT_EQ(a.server, "s1");
    EXPECT_NE(a.server_conn, 0u);
    EXPECT_EQ(a.bytes_out, 2u);
    EXPECT_EQ(a.error, proxycore::ErrorKind::none);
    EXPECT_FALSE(a.retried);
    EXPECT_GE(a.t_request, 0);
    EXPECT_EQ(a.t_queue, 0);
    EXPECT_GE(a.t_response, 0);
    EXPECT_GE(a.t_total, 0);
    EXPECT_GE(a.t_total, a.t_response);
    EXPECT_NE(a.client_addr.find("127.0.0.1:"), std::string::npos) << a.client_addr;
  }
  EXPECT_EQ(access[0].target, "/a");
  EXPECT_FALSE(access[0].server_conn_reused);
  EXPECT_GE(access[0].t_connect, 0);
  EXPECT_EQ(access[1].target, "/b");
  EXPECT_TRUE(access[1].server_conn_reused);
  EXPECT_EQ(access[1].t_connect, 0);
  EXPECT_EQ(access[1].server_conn, access[0].server_conn);
  EXPECT_EQ(access[1].client_conn, access[0].client_conn);
  EXPECT_NE(access[1].request, access[0].request);
}

// ---------------------------------------------------------------------------------------------
// Large bodies: streamed, never buffered

TEST(ProxyHttp, LargeResponseStreamedWithBoundedMemory) {
  constexpr std::uint64_t kSize = 200ull << 20;
  ProxyHarness h([](const OriginRequest& r) {
    OriginReply rep;
    if (r.target == "/big") rep.stream_bytes = kSize;
    return rep;
  });
  TestClient client(h.port());
  client.send(get("/warm-up"));  // threads, buffers and pools exist before the measurement
  ASSERT_EQ(client.read_response().status, 200);
  const std::int64_t before = vm_rss_kib();
  ASSERT_GT(before, 0);

  const auto start = std::chrono::steady_clock::now();
  client.send(get("/big"));
  std::uint64_t total = 0, mismatches = 0;
  std::int64_t peak = before;
  const Response r = client.read_response_streaming([&](std::uint64_t off, std::string_view p) {
    // First and last byte of every piece, and every byte of one piece per MiB.
    if (p.front() != pattern_byte(off) || p.back() != pattern_byte(off + p.size() - 1))
      ++mismatches;
    if ((off >> 20) != ((off + p.size()) >> 20)) {
      for (std::size_t i = 0; i < p.size(); ++i) mismatches += p[i] != pattern_byte(off + i);
      peak = std::max(peak, vm_rss_kib());
    }
    EXPECT_EQ(off, total);
    total += p.size();
  });
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const std::int64_t after = vm_rss_kib();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), std::to_string(kSize));
  EXPECT_EQ(total, kSize);
  EXPECT_EQ(mismatches, 0u);
  EXPECT_LT(std::max(peak, after) - before, 16 * 1024)
      << "RSS before " << before << " KiB, peak " << peak << " KiB, after " << after << " KiB";
  std::printf("[ info ] 200 MiB in %lld ms, RSS before %lld KiB, peak %lld KiB, after %lld KiB\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()),
              static_cast<long long>(before), static_cast<long long>(peak),
              static_cast<long long>(after));
  // The connection is intact after the transfer.
  client.send(get("/after"));
  EXPECT_EQ(client.read_response().body, "ok");
}

constexpr std::uint64_t kUpload = 32ull << 20;

// Sends `size` pattern bytes as a chunked request body in 64 KiB chunks.
void send_chunked_upload(TestClient& client, std::uint64_t size) {
  client.send("POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string piece;
  for (std::uint64_t off = 0; off < size;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(65536, size - off));
    piece = chunk(pattern(off, n));
    client.send(piece);
    off += n;
  }
  client.send("0\r\n\r\n");
}

TEST(ProxyHttp, LargeChunkedRequestBodyReachesOriginComplete) {
  // TestOrigin keeps the body, so this one checks completeness only.
  ProxyHarness h([](const OriginRequest& r) {
    OriginReply rep;
    std::uint64_t bad = 0;
    for (std::size_t i = 0; i < r.body.size(); ++i) bad += r.body[i] != pattern_byte(i);
    rep.body = std::to_string(r.body.size()) + " " + std::to_string(bad) + " " +
               r.header("transfer-encoding");
    return rep;
  });
  TestClient client(h.port());
  send_chunked_upload(client, kUpload);
  const Response r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::to_string(kUpload) + " 0 chunked");
}

// Counts (and checks) each request body without keeping it; answers "<bytes> <bad bytes> <TE>".
void counting_origin(tcp::socket& s) {
  beast::flat_buffer fb;
  std::vector<char> data(65536);
  for (;;) {
    http::request_parser<http::buffer_body> p;
    p.body_limit(boost::none);
    beast::error_code ec;
    http::read_header(s, fb, p, ec);
    if (ec) return;
    std::uint64_t count = 0, bad = 0;
    while (!p.is_done()) {
      p.get().body().data = data.data();
      p.get().body().size = data.size();
      http::read(s, fb, p, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return;
      const std::size_t n = data.size() - p.get().body().size;
      for (std::size_t i = 0; i < n; ++i) bad += data[i] != pattern_byte(count + i);
      count += n;
    }
    const std::string body = std::to_string(count) + " " + std::to_string(bad) + " " +
                             std::string(p.get()[http::field::transfer_encoding]);
    const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
    asio::write(s, asio::buffer(reply), ec);
    if (ec) return;
  }
}

TEST(ProxyHttp, LargeChunkedRequestBodyStreamedWithBoundedMemory) {
  if (kUnderAsan) GTEST_SKIP() << "RSS says nothing under ASan: its quarantine keeps freed memory";
  RawOrigin origin(counting_origin);
  ProxyHarness h({}, to_port(origin.port()));
  TestClient client(h.port());
  client.send(get("/warm-up"));
  ASSERT_EQ(client.read_response().body, "0 0 ");
  const std::int64_t before = vm_rss_kib();
  ASSERT_GT(before, 0);
  send_chunked_upload(client, kUpload);
  const std::int64_t after_send = vm_rss_kib();
  const Response r = client.read_response();
  const std::int64_t after = vm_rss_kib();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::to_string(kUpload) + " 0 chunked");
  EXPECT_LT(std::max(after_send, after) - before, 16 * 1024)
      << "RSS before " << before << " KiB, after sending " << after_send << " KiB, after "
      << after << " KiB";
}

// The same streaming with a Content-Length request body.
TEST(ProxyHttp, LargeContentLengthRequestBodyStreamedWithBoundedMemory) {
  if (kUnderAsan) GTEST_SKIP() << "RSS says nothing under ASan: its quarantine keeps freed memory";
  RawOrigin origin(counting_origin);
  ProxyHarness h({}, to_port(origin.port()));
  TestClient client(h.port());
  client.send(get("/warm-up"));
  ASSERT_EQ(client.read_response().body, "0 0 ");
  const std::int64_t before = vm_rss_kib();
  ASSERT_GT(before, 0);
  client.send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: " +
              std::to_string(kUpload) + "\r\n\r\n");
  for (std::uint64_t off = 0; off < kUpload; off += 65536) client.send(pattern(off, 65536));
  const std::int64_t after_send = vm_rss_kib();
  const Response r = client.read_response();
  const std::int64_t after = vm_rss_kib();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::to_string(kUpload) + " 0 ");
  EXPECT_LT(std::max(after_send, after) - before, 16 * 1024)
      << "RSS before " << before << " KiB, after sending " << after_send << " KiB, after "
      << after << " KiB";
  h.stop();
  EXPECT_GT(h.stopped_counters.bytes_to_servers, kUpload);
}

}  // namespace
}  // namespace satlink::test
