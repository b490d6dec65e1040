// Shared by the origin tests: a harness around a started Origin with its event log, and a
// reader that verifies a streamed body's size, headers and checksum.
#pragma once

#include "satlink/simulator/origin.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <thread>

#include "test_client.hpp"

namespace satlink::simulator::origin_test {

using namespace std::chrono_literals;
using test::ClientOptions;
using test::get;
using test::Response;
using test::TestClient;

inline constexpr std::uint64_t kBig = 5'000'000;

inline Page test_page() {
  Page p;
  p.path = "/";
  p.resources = {
      {"/style.css", "text/css", 2000, std::nullopt},
      {"/app.js", "application/javascript", 30000, std::nullopt},
      {"/big.png", "image/png", kBig, std::nullopt},
      {"/empty.bin", "application/octet-stream", 0, std::nullopt},
      {"/slow.js", "application/javascript", 100, ThinkTime{300, {}}},
  };
  return p;
}

inline ClientOptions quick() {
  ClientOptions o;
  o.timeout_ms = 5000;  // a failing test fails in seconds, not minutes
  return o;
}

struct Harness {
  explicit Harness(const std::function<void(OriginConfig&)>& tweak = {}) {
    OriginConfig c;
    c.page = test_page();
    if (tweak) tweak(c);
    origin = std::make_unique<Origin>(std::move(c), &log);
    origin->start();
  }
  std::uint16_t port() const { return origin->port(); }

  std::vector<LogEvent> events(OriginEvent kind) const {
    std::vector<LogEvent> out;
    for (const auto& e : log.events())
      if (e.is(kind)) out.push_back(e);
    return out;
  }
  bool wait_count(OriginEvent kind, std::size_t n, std::chrono::milliseconds t = 5s) const {
    return log.wait_for(
        [&](const auto& v) {
          return static_cast<std::size_t>(std::count_if(
                     v.begin(), v.end(), [&](const LogEvent& e) { return e.is(kind); })) >= n;
        },
        t);
  }
  // Until the latest occupancy event shows these counts (it follows its cause's event).
  bool wait_occupancy(std::int64_t active, std::int64_t idle) const {
    return log.wait_for(
        [&](const auto& v) {
          for (auto it = v.rbegin(); it != v.rend(); ++it)
            if (it->is(OriginEvent::occupancy)) return it->a == active && it->b == idle;
          return false;
        },
        5s);
  }
  // The close event of connection `conn` (waits for it).
  LogEvent close_of(std::uint64_t conn) const {
    LogEvent found;
    log.wait_for(
        [&](const auto& v) {
          for (const auto& e : v)
            if (e.is(OriginEvent::close) && e.conn == conn) {
              found = e;
              return true;
            }
          return false;
        },
        5s);
    return found;
  }
  OriginCloseReason close_reason(std::uint64_t conn) const {
    return static_cast<OriginCloseReason>(close_of(conn).b);
  }

  EventLog log;
  std::unique_ptr<Origin> origin;
};

inline std::string checksum_of(std::string_view bytes) {
  BodyChecksum sum;
  sum.update(bytes);
  return checksum_hex(sum.value());
}

// Reads one response, streaming its body through a checksum; returns the body's length.
inline std::uint64_t read_verified(TestClient& c, const Resource& r) {
  BodyChecksum sum;
  std::uint64_t got = 0;
  const Response resp = c.read_response_streaming([&](std::uint64_t offset, std::string_view p) {
    EXPECT_EQ(offset, got);
    got += p.size();
    sum.update(p);
  });
  EXPECT_EQ(resp.status, 200) << r.path;
  EXPECT_EQ(resp.header("content-type"), r.content_type) << r.path;
  EXPECT_EQ(resp.header("content-length"), std::to_string(r.size)) << r.path;
  EXPECT_EQ(resp.header("x-satlink-checksum"), checksum_hex(sum.value())) << r.path;
  EXPECT_EQ(sum.value(), body_checksum(r.path, r.size)) << r.path;
  EXPECT_EQ(resp.header("cache-control"), "no-store");
  EXPECT_EQ(resp.header("server"), "satlink-origin");
  return got;
}

}  // namespace satlink::simulator::origin_test
