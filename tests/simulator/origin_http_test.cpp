// The synthetic origin as an HTTP server on real sockets: exact bodies, errors, hostile bytes,
// timeouts, stop. Waits are on the event log or on socket reads, never on sleeps.
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

TEST(Origin, ServesThePageAndEveryResourceExactly) {
  Harness h;
  TestClient c(h.port(), quick());
  c.send(get("/"));
  const Response page = c.read_response();
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.body, page_html(test_page()));
  EXPECT_EQ(page.header("x-satlink-checksum"), checksum_of(page.body));
  EXPECT_FALSE(page.chunked);
  for (const Resource& r : test_page().resources) {
    c.send(get(r.path));
    EXPECT_EQ(read_verified(c, r), r.size);
  }
  // Query strings are ignored when the path is known; absolute-form targets too.
  c.send(get("/style.css?v=3"));
  read_verified(c, test_page().resources[0]);
  c.send(get("http://origin.test/app.js"));
  read_verified(c, test_page().resources[1]);
  ASSERT_TRUE(h.wait_count(OriginEvent::response_end, 8));  // counted after the last write
  const auto counters = h.origin->counters();
  EXPECT_EQ(counters.accepted, 1u);
  EXPECT_EQ(counters.requests, 8u);
  EXPECT_EQ(counters.responses, 8u);
  const auto ends = h.events(OriginEvent::response_end);
  ASSERT_EQ(ends.size(), 8u);
  EXPECT_EQ(ends[3].a, static_cast<std::int64_t>(kBig));
}

TEST(Origin, HeadSendsTheLengthAndChecksumWithoutABody) {
  Harness h;
  TestClient c(h.port(), quick());
  c.send("HEAD /big.png HTTP/1.1\r\nHost: t\r\n\r\n");
  const Response r = c.read_response(true);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), std::to_string(kBig));
  EXPECT_EQ(r.header("x-satlink-checksum"), checksum_hex(body_checksum("/big.png", kBig)));
  // The next response on the connection starts right after the head: no body was sent.
  c.send(get("/style.css"));
  read_verified(c, test_page().resources[0]);
  ASSERT_TRUE(h.wait_count(OriginEvent::response_end, 2));
  EXPECT_EQ(h.events(OriginEvent::response_end)[0].a, 0);
}

TEST(Origin, AnswersUnknownPathsAndOtherMethodsAndKeepsTheConnection) {
  Harness h;
  TestClient c(h.port(), quick());
  c.send(get("/nope"));
  Response r = c.read_response();
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "404 Not Found\n");
  EXPECT_EQ(r.header("x-satlink-checksum"), checksum_of(r.body));
  EXPECT_EQ(r.header("connection"), "");
  c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
  r = c.read_response();
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, HEAD");
  // A small request body is read and dropped: the next request parses.
  c.send("GET /empty.bin HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc" + get("/app.js"));
  EXPECT_EQ(c.read_response().status, 200);
  read_verified(c, test_page().resources[1]);
  EXPECT_EQ(h.origin->counters().accepted, 1u);
}

struct BadInput {
  const char* name;
  std::string bytes;
  int status;
};

std::string bad_input_name(const ::testing::TestParamInfo<BadInput>& p) {
  return p.param.name;
}

class OriginRejects : public ::testing::TestWithParam<BadInput> {};

TEST_P(OriginRejects, AnswersAndCloses) {
  Harness h;
  TestClient c(h.port(), quick());
  c.send(GetParam().bytes);
  const Response r = c.read_response();
  EXPECT_EQ(r.status, GetParam().status);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.peer_closed());
  EXPECT_EQ(h.close_reason(1), OriginCloseReason::error);
  // The origin still serves.
  TestClient other(h.port(), quick());
  other.send(get("/style.css"));
  EXPECT_EQ(other.read_response().status, 200);
}

INSTANTIATE_TEST_SUITE_P(
    Origin, OriginRejects,
    ::testing::Values(
        BadInput{"Malformed", "NOT A REQUEST\r\n\r\n", 400},
        BadInput{"BinaryGarbage",
                 std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) +
                     std::string(64, '\0') + "\r\n\r\n",
                 400},
        BadInput{"BadHeader", "GET / HTTP/1.1\r\nHost t\r\n\r\n", 400},
        BadInput{"HugeHead", "GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n",
                 431},
        BadInput{"EndlessHead", "GET / HTTP/1.1\r\nX-Big: " + std::string(70000, 'a'), 431},
        BadInput{"BodyOverOneMiB", "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n",
                 413},
        BadInput{"ChunkedBodyOverOneMiB",
                 "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n" +
                     std::string(0x100000, 'x') + "\r\n10\r\n" + std::string(16, 'y') + "\r\n",
                 413}),
    bad_input_name);

TEST(Origin, SurvivesRandomBytes) {
  Harness h([](OriginConfig& c) { c.request_timeout_ms = 200; });
  Rng rng(42);
  for (int i = 0; i < 40; ++i) {
    std::string bytes(1 + rng.next() % 3000, '\0');
    for (auto& b : bytes) b = static_cast<char>(rng.next());
    if (i % 2 == 1) bytes = "GET / HTTP/1.1\r\n" + bytes;  // past the request line
    TestClient c(h.port(), quick());
    try {
      c.send(bytes);
      c.shutdown_send();
      c.read_until_close();
    } catch (const std::exception&) {
      // a reset is a fine answer to garbage
    }
  }
  ASSERT_TRUE(h.wait_occupancy(0, 0));
  EXPECT_EQ(h.origin->counters().open, 0u);
  EXPECT_EQ(h.events(OriginEvent::close).size(), 40u);
  TestClient c(h.port(), quick());
  c.send(get("/app.js"));
  read_verified(c, test_page().resources[1]);
}

TEST(Origin, PlainHttpToTheTlsPortFailsTheHandshake) {
  Harness h([](OriginConfig& c) { c.tls = true; });
  TestClient c(h.port(), quick());
  c.send(get("/"));
  c.read_until_close();  // a TLS alert, or nothing
  EXPECT_EQ(h.close_reason(1), OriginCloseReason::error);
  const auto ends = h.events(OriginEvent::tls_handshake_end);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].a, -1);
}

TEST(Origin, PartialHeadTimesOutWith408) {
  Harness h([](OriginConfig& c) { c.request_timeout_ms = 100; });
  TestClient c(h.port(), quick());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n");
  const Response r = c.read_response();
  EXPECT_EQ(r.status, 408);
  EXPECT_TRUE(c.peer_closed());
  EXPECT_EQ(h.close_reason(1), OriginCloseReason::request_timeout);
  // Silence from the start: closed without a response.
  TestClient silent(h.port(), quick());
  EXPECT_EQ(silent.read_until_close(), "");
  EXPECT_EQ(h.close_reason(2), OriginCloseReason::request_timeout);
}

TEST(Origin, StopClosesEveryConnectionAndTheListener) {
  Harness h([](OriginConfig& c) {
    c.think.ms = 60'000;
    c.page.resources[0].think = ThinkTime{};  // /style.css answers at once
  });
  TestClient idle(h.port(), quick());
  idle.send(get("/style.css"));
  idle.read_response();
  TestClient thinking(h.port(), quick());
  thinking.send(get("/app.js"));
  TestClient fresh(h.port(), quick());
  ASSERT_TRUE(h.wait_count(OriginEvent::request, 2));
  ASSERT_TRUE(h.wait_count(OriginEvent::accept, 3));
  ASSERT_TRUE(h.wait_count(OriginEvent::idle, 1));
  h.origin->stop();
  h.origin->stop();  // twice is fine
  EXPECT_TRUE(idle.peer_closed());
  EXPECT_TRUE(thinking.peer_closed());
  EXPECT_TRUE(fresh.peer_closed());
  const auto closes = h.events(OriginEvent::close);
  ASSERT_EQ(closes.size(), 3u);
  for (const auto& e : closes)
    EXPECT_EQ(static_cast<OriginCloseReason>(e.b), OriginCloseReason::stopped);
  EXPECT_THROW(TestClient(h.port(), quick()), std::runtime_error);
  EXPECT_EQ(h.origin->counters().open, 0u);
  EXPECT_EQ(h.origin->occupancy().back().active, 0u);
}

TEST(Origin, RunsOnTheCallersIoContext) {
  boost::asio::io_context ioc;
  EventLog log;
  OriginConfig config;
  config.page = test_page();
  Origin origin(config, &log);
  origin.start_on(ioc);
  std::thread runner([&] { ioc.run(); });
  {
    TestClient c(origin.port(), quick());
    c.send(get("/app.js"));
    read_verified(c, test_page().resources[1]);
  }
  origin.stop();
  runner.join();  // returns once the origin has nothing left to do
  EXPECT_EQ(origin.counters().open, 0u);
}

TEST(Origin, ReportsBindFailuresAndInvalidPages) {
  Harness h;
  OriginConfig taken;
  taken.port = h.port();
  Origin second(taken, nullptr);
  try {
    second.start();
    FAIL() << "bound a port in use";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen on 127.0.0.1:" + std::to_string(h.port())),
              std::string::npos)
        << e.what();
  }
  OriginConfig bad_address;
  bad_address.address = "not-an-address";
  Origin third(bad_address, nullptr);
  EXPECT_THROW(third.start(), std::runtime_error);
  OriginConfig bad_page;
  bad_page.page.resources.push_back({"nope", "text/css", 1, std::nullopt});
  EXPECT_THROW(Origin(bad_page, nullptr), std::runtime_error);
}

TEST(OriginPresets, MemoryModelsAndKeepAlivePresets) {
  const MemoryModel* nginx = find_memory_model("nginx");
  ASSERT_NE(nginx, nullptr);
  EXPECT_EQ(nginx->idle_bytes, 250);
  EXPECT_EQ(OriginConfig{}.memory.name, "nginx");
  const MemoryModel* haproxy = find_memory_model("haproxy");
  ASSERT_NE(haproxy, nullptr);
  EXPECT_EQ(haproxy->idle_bytes, 1200);
  EXPECT_EQ(haproxy->active_bytes, 33000);
  const MemoryModel* apache = find_memory_model("apache-prefork");
  ASSERT_NE(apache, nullptr);
  EXPECT_EQ(apache->idle_bytes, 10e6);
  EXPECT_EQ(apache->active_bytes, 10e6);
  EXPECT_EQ(find_memory_model("iis"), nullptr);
  for (const auto& m : memory_models()) EXPECT_FALSE(m.source.empty()) << m.name;

  const auto* ap = find_origin_keep_alive_preset("apache");
  ASSERT_NE(ap, nullptr);
  EXPECT_EQ(ap->keep_alive, (OriginKeepAlive{true, 5000, 100}));
  const auto* ng = find_origin_keep_alive_preset("nginx");
  ASSERT_NE(ng, nullptr);
  EXPECT_EQ(ng->keep_alive, (OriginKeepAlive{true, 75000, 1000}));
  ASSERT_NE(find_origin_keep_alive_preset("off"), nullptr);
  EXPECT_FALSE(find_origin_keep_alive_preset("off")->keep_alive.enabled);
  EXPECT_EQ(find_origin_keep_alive_preset("lighttpd"), nullptr);
  EXPECT_EQ(to_string(OriginCloseReason::keep_alive_timeout), "keep_alive_timeout");
  EXPECT_EQ(to_string(OriginCloseReason::request_timeout), "request_timeout");
}

}  // namespace
}  // namespace satlink::simulator
