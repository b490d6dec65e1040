// The replay client on real sockets: the synthetic origin as the server, a link in front of it
// for delay, raw peers for hostile servers. Waits are on the event log or on run() returning,
// never on sleeps; lower bounds on times are exact (a link never delivers early), upper bounds
// leave room for a loaded 2-core machine.
#include "satlink/simulator/replay.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "raw_peer.hpp"
#include "satlink/simulator/link.hpp"
#include "satlink/simulator/origin.hpp"

namespace satlink::simulator {
namespace {

using namespace std::chrono_literals;
constexpr std::int64_t kMs = 1'000'000;

// n resources, stylesheets, scripts and images in turn, each of its own size; plus one PDF the
// HTML links to and a browser does not fetch.
Page page_of(std::size_t n) {
  Page p;
  static const char* const types[] = {"text/css", "application/javascript", "image/png"};
  static const char* const exts[] = {"css", "js", "png"};
  for (std::size_t i = 0; i < n; ++i)
    p.resources.push_back(
        {"/r" + std::to_string(i) + "." + exts[i % 3], types[i % 3], 1000 + 97 * i, std::nullopt});
  p.resources.push_back({"/manual.pdf", "application/pdf", 5000, std::nullopt});
  return p;
}

struct Bed {
  explicit Bed(Page p, const std::function<void(OriginConfig&)>& tweak = {},
               std::optional<LinkConfig> link_config = std::nullopt)
      : page(std::move(p)) {
    OriginConfig c;
    c.page = page;
    if (tweak) tweak(c);
    origin = std::make_unique<Origin>(std::move(c), &log);
    origin->start();
    if (!link_config) return;
    LinkOptions o;
    o.config = *link_config;
    o.target_port = origin->port();
    o.log_chunks = false;
    link = std::make_unique<Link>(o, &log);
    link->start();
  }
  ReplayOptions options() const {
    ReplayOptions o;
    o.port = link ? link->port() : origin->port();
    o.timeout_ms = 20000;  // a failing test fails in seconds
    return o;
  }
  ReplayResult run(const ReplayOptions& o) {
    Replay replay(o, &log);
    return replay.run();
  }
  std::vector<LogEvent> client(ClientEvent k) const {
    std::vector<LogEvent> out;
    for (const auto& e : log.events())
      if (e.is(k)) out.push_back(e);
    return out;
  }
  LogEvent first(ClientEvent k, std::uint64_t request) const {
    for (const auto& e : client(k))
      if (e.request == request) return e;
    ADD_FAILURE() << "no " << to_string(k) << " for request " << request;
    return {};
  }
  std::int64_t count(ClientEvent k, std::int64_t a) const {
    const auto v = client(k);
    return std::count_if(v.begin(), v.end(), [a](const LogEvent& e) { return e.a == a; });
  }
  std::int64_t page_ms() const {  // the first page_start to the last page_end
    return (client(ClientEvent::page_end).back().t_ns -
            client(ClientEvent::page_start).front().t_ns) /
           kMs;
  }

  EventLog log;  // declared first: outlives the origin and the link
  Page page;
  std::unique_ptr<Origin> origin;
  std::unique_ptr<Link> link;  // destroyed first: it holds connections to the origin
};

LinkConfig delay(double one_way_ms, SetupModel setup = SetupModel::none) {
  LinkConfig c;
  c.up.delay_ms = c.down.delay_ms = one_way_ms;
  c.setup = setup;
  return c;
}

// Every queued request has exactly one outcome: an error, or a verified 2xx/3xx response.
void expect_one_outcome_each(const Bed& bed) {
  std::map<std::uint64_t, int> errors, ends, good;
  for (const auto& e : bed.client(ClientEvent::error)) ++errors[e.request];
  for (const auto& e : bed.client(ClientEvent::response_end)) {
    ++ends[e.request];
    if (e.a < 400 && e.c == 1) ++good[e.request];
  }
  for (const auto& q : bed.client(ClientEvent::request_queued)) {
    EXPECT_LE(errors[q.request], 1) << q.request;
    if (errors[q.request] == 0) {
      EXPECT_EQ(good[q.request], 1) << q.request;
    }
    EXPECT_LE(ends[q.request], 1) << q.request;
  }
}

// A successful load: every URL of the HTML fetched once, in the HTML's numbering, verified.
void expect_complete_load(const Bed& bed, const ReplayResult& result, std::uint32_t users = 1) {
  EXPECT_EQ(result.users_ok, users) << result.first_error;
  EXPECT_EQ(result.users_failed, 0u);
  EXPECT_TRUE(result.first_error.empty()) << result.first_error;
  EXPECT_TRUE(bed.client(ClientEvent::error).empty());
  const auto urls = html_resource_urls(page_html(bed.page));
  std::map<std::string, std::uint64_t> size_of;
  for (const auto& r : bed.page.resources) size_of[r.path] = r.size;
  size_of[bed.page.path] = page_html(bed.page).size();
  std::map<std::uint32_t, std::vector<std::string>> by_user;
  for (const auto& r : result.requests) {
    if (r.index > 0) by_user[r.user].push_back(r.target);
    EXPECT_EQ(r.index == 0 ? "/" : urls[r.index - 1], r.target);
    const LogEvent end = bed.first(ClientEvent::response_end, r.id);
    EXPECT_EQ(end.a, 200) << r.target;
    EXPECT_EQ(end.b, static_cast<std::int64_t>(size_of[r.target])) << r.target;
    EXPECT_EQ(end.c, 1) << r.target;
  }
  for (std::uint32_t u = 0; u < users; ++u) EXPECT_EQ(by_user[u], urls);
  EXPECT_EQ(bed.client(ClientEvent::page_end).size(), users);
  for (const auto& e : bed.client(ClientEvent::page_end)) EXPECT_EQ(e.b, 1);
  expect_one_outcome_each(bed);
}

TEST(Replay, FetchesEveryUrlOfTheHtmlOnceAndVerifiesEachBody) {
  Page page = page_of(10);
  page.resources.push_back({"/big.png", "image/png", 5'000'000, std::nullopt});  // many reads
  Bed bed(page);
  const ReplayResult result = bed.run(bed.options());
  expect_complete_load(bed, result);
  ASSERT_EQ(result.requests.size(), 12u);  // the page and 11 resources; the PDF is a link
  EXPECT_EQ(bed.origin->counters().requests, 12u);
  // The page is queued first (a = 0), then the HTML's URLs in order, all for user 0.
  const auto queued = bed.client(ClientEvent::request_queued);
  for (std::size_t i = 0; i < queued.size(); ++i) {
    EXPECT_EQ(queued[i].a, static_cast<std::int64_t>(i));
    EXPECT_EQ(queued[i].b, 0);
    EXPECT_EQ(queued[i].request, i + 1);  // ids from 1
  }
  // Per request, the events come in time order.
  for (const auto& r : result.requests) {
    const std::int64_t q = bed.first(ClientEvent::request_queued, r.id).t_ns;
    const std::int64_t s = bed.first(ClientEvent::request_start, r.id).t_ns;
    const std::int64_t w = bed.first(ClientEvent::request_sent, r.id).t_ns;
    const std::int64_t f = bed.first(ClientEvent::response_start, r.id).t_ns;
    const std::int64_t e = bed.first(ClientEvent::response_end, r.id).t_ns;
    EXPECT_TRUE(q <= s && s <= w && w <= f && f <= e) << r.target;
  }
}

TEST(Replay, KeepAliveReusesAtMostSixConnections) {
  Bed bed(page_of(30));
  expect_complete_load(bed, bed.run(bed.options()));
  EXPECT_EQ(bed.client(ClientEvent::connect_start).size(), 6u);
  EXPECT_EQ(bed.origin->counters().accepted, 6u);
  EXPECT_EQ(bed.count(ClientEvent::request_start, 0), 6);  // each connection's first request
  EXPECT_EQ(bed.count(ClientEvent::request_start, 1), 25);
  std::int64_t carried = 0;
  for (const auto& e : bed.client(ClientEvent::close)) carried += e.a;
  EXPECT_EQ(carried, 31);
}

TEST(Replay, WithoutKeepAliveEveryRequestHasItsOwnConnection) {
  Bed bed(page_of(30));
  ReplayOptions o = bed.options();
  o.keep_alive = false;
  expect_complete_load(bed, bed.run(o));
  EXPECT_EQ(bed.client(ClientEvent::connect_start).size(), 31u);
  EXPECT_EQ(bed.origin->counters().accepted, 31u);
  EXPECT_EQ(bed.count(ClientEvent::request_start, 1), 0);
  for (const auto& e : bed.client(ClientEvent::close)) EXPECT_EQ(e.a, 1);
}

TEST(Replay, Http10KeepsConnectionsOnlyWhenAskedTo) {
  for (const bool keep : {true, false}) {
    Bed bed(page_of(30));
    ReplayOptions o = bed.options();
    o.http_version = HttpVersion::http10;
    o.keep_alive = keep;
    o.pipelining = 4;  // ignored: no pipelining with HTTP/1.0
    expect_complete_load(bed, bed.run(o));
    EXPECT_EQ(bed.origin->counters().accepted, keep ? 6u : 31u) << keep;
  }
}

TEST(Replay, OriginWithoutKeepAliveMakesANewConnectionPerRequest) {
  Bed bed(page_of(30), [](OriginConfig& c) { c.keep_alive.enabled = false; });
  expect_complete_load(bed, bed.run(bed.options()));
  EXPECT_EQ(bed.client(ClientEvent::connect_start).size(), 31u);
  EXPECT_EQ(bed.origin->counters().accepted, 31u);
}

TEST(Replay, SixConnectionsFetchTwelveResourcesInTwoRounds) {
  for (const std::uint32_t conns : {6u, 1u}) {
    Bed bed(page_of(12), {}, delay(50));
    ReplayOptions o = bed.options();
    o.connections_per_host = conns;
    const ReplayResult result = bed.run(o);
    expect_complete_load(bed, result);
    // From the HTML parsed to the last byte: 12 / conns round trips of 100 ms.
    const std::int64_t rounds = 12 / conns;
    const std::int64_t ms = (bed.client(ClientEvent::page_end)[0].t_ns -
                             bed.first(ClientEvent::request_queued, 2).t_ns) /
                            kMs;
    EXPECT_GE(ms, rounds * 100) << conns;
    EXPECT_LT(ms, rounds * 100 + 100 + 40 * rounds) << conns;
  }
}

TEST(Replay, PipeliningOnOneConnectionBeatsOneRequestAtATime) {
  std::int64_t took[2] = {0, 0};
  for (const std::uint32_t depth : {1u, 4u}) {
    Bed bed(page_of(12), {}, delay(50));
    ReplayOptions o = bed.options();
    o.connections_per_host = 1;
    o.pipelining = depth;
    const ReplayResult result = bed.run(o);
    expect_complete_load(bed, result);
    EXPECT_EQ(bed.origin->counters().accepted, 1u);
    // Responses come in request order on the one connection.
    const auto ends = bed.client(ClientEvent::response_end);
    for (std::size_t i = 1; i < ends.size(); ++i) EXPECT_LT(ends[i - 1].request, ends[i].request);
    took[depth == 4] = bed.page_ms();
  }
  EXPECT_GE(took[0], 13 * 100);  // the page and 12 resources, one round trip each
  EXPECT_GE(took[1], 4 * 100);   // the page, then 12 in windows of 4
  EXPECT_LT(took[1] * 2, took[0]);
}

TEST(Replay, RequestsPipelinedBehindAClosingResponseAreSentAgain) {
  // The origin closes after every 3rd response; 4 requests are in flight.
  Bed bed(page_of(20), [](OriginConfig& c) { c.keep_alive.max_requests = 3; });
  ReplayOptions o = bed.options();
  o.connections_per_host = 2;
  o.pipelining = 4;
  expect_complete_load(bed, bed.run(o));
  EXPECT_GE(bed.origin->counters().accepted, 7u);  // 21 requests, 3 per connection
}

// How the origin's connections ended, once all `n` have (their close events follow the client's).
std::vector<OriginCloseReason> origin_closes(const Bed& bed, std::size_t n) {
  auto closes = [](const auto& v) {
    std::vector<OriginCloseReason> out;
    for (const auto& e : v)
      if (e.is(OriginEvent::close)) out.push_back(static_cast<OriginCloseReason>(e.b));
    return out;
  };
  bed.log.wait_for([&](const auto& v) { return closes(v).size() >= n; }, 5s);
  return closes(bed.log.events());
}

TEST(Replay, IdleConnectionsAreHeldAfterTheLoadUntilTheServerClosesThem) {
  Bed bed(page_of(10), [](OriginConfig& c) { c.keep_alive.timeout_ms = 300; });
  ReplayOptions o = bed.options();
  o.idle_hold_ms = 20000;
  expect_complete_load(bed, bed.run(o));
  const std::int64_t held = (now_ns() - bed.client(ClientEvent::page_end)[0].t_ns) / kMs;
  EXPECT_GE(held, 300);  // the origin's keep-alive timeout ended the hold, not ours
  EXPECT_LT(held, 3000);
  EXPECT_EQ(origin_closes(bed, 6),
            std::vector<OriginCloseReason>(6, OriginCloseReason::keep_alive_timeout));
}

TEST(Replay, IdleConnectionsCloseWhenTheHoldPassesOrAtOnceWithout) {
  for (const double hold : {300.0, 0.0}) {
    Bed bed(page_of(10));  // the origin would keep them 5 s
    ReplayOptions o = bed.options();
    o.idle_hold_ms = hold;
    expect_complete_load(bed, bed.run(o));
    const std::int64_t held = (now_ns() - bed.client(ClientEvent::page_end)[0].t_ns) / kMs;
    EXPECT_GE(held, static_cast<std::int64_t>(hold));
    EXPECT_LT(held, static_cast<std::int64_t>(hold) + 1000);
    EXPECT_EQ(origin_closes(bed, 6),
              std::vector<OriginCloseReason>(6, OriginCloseReason::peer_closed));
  }
}

TEST(Replay, CancelEndsTheHoldAtOnce) {
  Bed bed(page_of(10));
  ReplayOptions o = bed.options();
  o.idle_hold_ms = 20000;
  Replay replay(o, &bed.log);
  std::thread canceller([&] {
    bed.log.wait_for(
        [&](const auto& v) {
          return std::any_of(v.begin(), v.end(),
                             [](const LogEvent& e) { return e.is(ClientEvent::page_end); });
        },
        10s);
    replay.cancel();
  });
  const ReplayResult result = replay.run();
  canceller.join();
  expect_complete_load(bed, result);  // the load itself had succeeded
  EXPECT_LT((now_ns() - bed.client(ClientEvent::page_end)[0].t_ns) / kMs, 1000);
}

TEST(Replay, UsersAreBrowsersOfTheirOwn) {
  Bed bed(page_of(10));
  ReplayOptions o = bed.options();
  o.users = 3;
  boost::asio::io_context ioc;  // start_on a caller's io_context; done runs there
  Replay replay(o, &bed.log);
  ReplayResult result;
  int done_calls = 0;
  replay.start_on(ioc, [&](const ReplayResult& r) {
    result = r;
    ++done_calls;
  });
  ioc.run();
  EXPECT_EQ(done_calls, 1);
  expect_complete_load(bed, result, 3);
  std::set<std::int64_t> starters;
  for (const auto& e : bed.client(ClientEvent::page_start)) starters.insert(e.a);
  EXPECT_EQ(starters, (std::set<std::int64_t>{0, 1, 2}));
  std::set<std::uint64_t> conn_ids;
  for (std::int64_t u = 0; u < 3; ++u) EXPECT_EQ(bed.count(ClientEvent::connect_start, u), 6);
  for (const auto& e : bed.client(ClientEvent::connect_start)) conn_ids.insert(e.conn);
  EXPECT_EQ(conn_ids.size(), 18u);
  EXPECT_EQ(*conn_ids.begin(), 1u);
  EXPECT_EQ(bed.origin->counters().accepted, 18u);
}

// HAR's timings from the events, for the request that opened the first connection.
struct Har {
  double blocked, connect, ssl, send, wait, receive;
};
Har har_of(const Bed& bed, std::uint64_t request) {
  auto t = [&](ClientEvent k) { return static_cast<double>(bed.first(k, request).t_ns) / kMs; };
  const double connect = t(ClientEvent::connect_end) - t(ClientEvent::connect_start);
  return {t(ClientEvent::request_start) - t(ClientEvent::request_queued) - connect,
          connect,
          0,
          t(ClientEvent::request_sent) - t(ClientEvent::request_start),
          t(ClientEvent::response_start) - t(ClientEvent::request_sent),
          t(ClientEvent::response_end) - t(ClientEvent::response_start)};
}

TEST(Replay, HarTimingsShowTheLinksSetUpCostInWait) {
  Bed bed(page_of(3), {}, delay(50, SetupModel::tcp));  // RTT 100 ms
  expect_complete_load(bed, bed.run(bed.options()));
  const Har page = har_of(bed, 1);
  EXPECT_LT(page.connect, 20);  // the kernel's handshake on 127.0.0.1
  EXPECT_GE(page.blocked, 0);
  EXPECT_LT(page.blocked, 20);
  EXPECT_GE(page.send, 0);
  EXPECT_GE(page.wait, 200);  // held 1 RTT for SYN/SYN-ACK, 0.5 RTT out, 0.5 RTT back
  EXPECT_LT(page.wait, 200 + 80);
  EXPECT_GE(page.receive, 0);
  // The request that reused the page's connection waits one round trip.
  for (const auto& e : bed.client(ClientEvent::request_start))
    if (e.conn == 1 && e.request != 1) {
      EXPECT_EQ(e.a, 1);
      const LogEvent sent = bed.first(ClientEvent::request_sent, e.request);
      EXPECT_GE(bed.first(ClientEvent::response_start, e.request).t_ns - sent.t_ns, 100 * kMs);
    }
}

TEST(Replay, HarTimingsOverTlsPutTheSetUpCostInSsl) {
  Bed bed(
      page_of(3),
      [](OriginConfig& c) {
        c.tls = true;
        c.tls_version = TlsVersion::v1_3;
      },
      delay(50, SetupModel::tcp));
  ReplayOptions o = bed.options();
  o.tls = true;
  expect_complete_load(bed, bed.run(o));
  const Har page = har_of(bed, 1);
  const double ssl = static_cast<double>(bed.first(ClientEvent::tls_end, 1).t_ns -
                                         bed.first(ClientEvent::tls_start, 1).t_ns) /
                     kMs;
  // Lower bounds allow 2 ms: the client stamps tls_start / request_sent just after its write,
  // and the link's clock starts at its read (seen: wait 99.48 ms on a loaded machine).
  EXPECT_GE(ssl, 200 - 2);  // the ClientHello held 1.5 RTT, the ServerHello 0.5 RTT back
  EXPECT_LT(ssl, 200 + 80);
  EXPECT_LT(page.connect - ssl, 20);  // HAR's TCP part stays ~0
  EXPECT_GE(page.wait, 100 - 2);      // one round trip, as on a warm connection
  EXPECT_LT(page.wait, 100 + 80);
}

class ReplayTls : public testing::TestWithParam<TlsVersion> {};

TEST_P(ReplayTls, LoadsOverTlsAndLaterConnectionsResume) {
  for (const bool resume : {true, false}) {
    Bed bed(page_of(10), [](OriginConfig& c) {
      c.tls = true;
      c.tls_version = GetParam();
    });
    ReplayOptions o = bed.options();
    o.tls = true;
    o.tls_version = GetParam() == TlsVersion::v1_2 ? 12 : 13;
    o.tls_resume = resume;
    expect_complete_load(bed, bed.run(o));
    const auto starts = bed.client(ClientEvent::tls_start);
    const auto ends = bed.client(ClientEvent::tls_end);
    ASSERT_EQ(starts.size(), 6u);
    ASSERT_EQ(ends.size(), 6u);
    EXPECT_EQ(ends[0].a, 0);  // the first connection: a full handshake
    EXPECT_EQ(bed.count(ClientEvent::tls_end, 1), resume ? 5 : 0) << resume;
    for (const auto& e : ends) {
      EXPECT_EQ(e.b, GetParam() == TlsVersion::v1_2 ? 0x0303 : 0x0304);
      // HAR's connect includes ssl: the handshake lies inside the connect span
      EXPECT_GE(bed.first(ClientEvent::connect_end, e.request).t_ns, e.t_ns);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Versions, ReplayTls, testing::Values(TlsVersion::v1_2, TlsVersion::v1_3));

// ---- hostile servers ----------------------------------------------------------------------

std::string read_head(test::Socket& s) {
  std::string head;
  char ch = 0;
  while (head.find("\r\n\r\n") == std::string::npos) {
    if (::recv(s.fd(), &ch, 1, 0) != 1) return "";
    head += ch;
  }
  return head;
}

std::string respond(std::string_view body, std::string_view checksum) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nX-Satlink-Checksum: " + std::string(checksum) + "\r\n\r\n" + std::string(body);
}

std::string checksum_of(std::string_view body) {
  BodyChecksum sum;
  sum.update(body);
  return checksum_hex(sum.value());
}

// What the replay makes of one server: the run's result and the client events.
struct Raw {
  explicit Raw(test::RawPeer::Script script, double timeout_ms = 10000) : peer(std::move(script)) {
    ReplayOptions o;
    o.port = peer.port();
    o.timeout_ms = timeout_ms;
    const std::int64_t t0 = now_ns();
    result = Replay(o, &log).run();
    took_ms = (now_ns() - t0) / kMs;
  }
  std::vector<std::int64_t> errors() const {
    std::vector<std::int64_t> out;
    for (const auto& e : log.events())
      if (e.is(ClientEvent::error)) out.push_back(e.a);
    return out;
  }
  std::int64_t page_end_b() const {
    for (const auto& e : log.events())
      if (e.is(ClientEvent::page_end)) return e.b;
    return -1;
  }
  EventLog log;
  test::RawPeer peer;
  ReplayResult result;
  std::int64_t took_ms = 0;
};

constexpr auto err = [](ClientError e) { return static_cast<std::int64_t>(e); };

TEST(ReplayHostile, AWrongChecksumIsAWrongBodyAndTheOtherResourcesStillLoad) {
  const std::string html = R"(<html><script src="/good.js"></script><img src="/bad.png"></html>)";
  Raw raw([&](test::Socket& s, std::int64_t) {
    for (std::string head = read_head(s); !head.empty(); head = read_head(s)) {
      if (head.starts_with("GET / "))
        s.send(respond(html, checksum_of(html)));
      else if (head.starts_with("GET /good.js "))
        s.send(respond("ok();", checksum_of("ok();")));
      else
        s.send(respond("pixels", "0123456789abcdef"));
    }
  });
  EXPECT_EQ(raw.errors(), std::vector<std::int64_t>{err(ClientError::wrong_body)});
  EXPECT_EQ(raw.page_end_b(), 0);
  EXPECT_EQ(raw.result.users_failed, 1u);
  EXPECT_NE(raw.result.first_error.find("/bad.png"), std::string::npos) << raw.result.first_error;
  std::map<std::uint64_t, std::int64_t> checksum_ok;
  for (const auto& e : raw.log.events())
    if (e.is(ClientEvent::response_end)) checksum_ok[e.request] = e.c;
  EXPECT_EQ(checksum_ok, (std::map<std::uint64_t, std::int64_t>{{1, 1}, {2, 1}, {3, 0}}));
}

TEST(ReplayHostile, AResetMidBodyIsAnIoError) {
  Raw raw([](test::Socket& s, std::int64_t) {
    read_head(s);
    s.send("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(1000, 'x'));
    s.reset();
  });
  EXPECT_EQ(raw.errors(), std::vector<std::int64_t>{err(ClientError::io_error)});
  EXPECT_EQ(raw.page_end_b(), 0);
}

TEST(ReplayHostile, GarbageAndHugeHeadsAreBadResponses) {
  for (const std::string& reply : {std::string("SMTP ready\r\n\r\n"),
                                   "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(70000, 'a')}) {
    Raw raw([&](test::Socket& s, std::int64_t) {
      read_head(s);
      s.send(reply);
      s.recv_until_end();
    });
    EXPECT_EQ(raw.errors(), std::vector<std::int64_t>{err(ClientError::bad_response)});
    EXPECT_EQ(raw.page_end_b(), 0);
  }
}

TEST(ReplayHostile, AServerThatNeverAnswersTimesOut) {
  Raw raw(
      [](test::Socket& s, std::int64_t) {
        read_head(s);
        s.recv_until_end();  // until the client gives up
      },
      300);
  EXPECT_EQ(raw.errors(), std::vector<std::int64_t>{err(ClientError::timeout)});
  EXPECT_EQ(raw.page_end_b(), 0);
  EXPECT_GE(raw.took_ms, 300);
  EXPECT_LT(raw.took_ms, 2000);
}

TEST(ReplayHostile, ARefusedPortIsAConnectFailure) {
  std::uint16_t port = 0;
  {
    test::RawPeer closed([](test::Socket&, std::int64_t) {});
    port = closed.port();
  }  // nothing listens there any more
  EventLog log;
  ReplayOptions o;
  o.port = port;
  const ReplayResult result = Replay(o, &log).run();
  EXPECT_EQ(result.users_failed, 1u);
  std::vector<std::int64_t> errors;
  for (const auto& e : log.events()) {
    if (e.is(ClientEvent::error)) errors.push_back(e.a);
    if (e.is(ClientEvent::connect_end)) {
      EXPECT_NE(e.a, 0);
    }
    EXPECT_FALSE(e.is(ClientEvent::close));  // never opened
  }
  EXPECT_EQ(errors, std::vector<std::int64_t>{err(ClientError::connect_failed)});
}

TEST(ReplayHostile, AReusedConnectionClosedUnansweredIsRetriedOnceOnANewOne) {
  // The page is answered (keep-alive); any other request closes the connection unanswered.
  const std::string html = R"(<script src="/a.js"></script>)";
  Raw raw([&](test::Socket& s, std::int64_t) {
    for (std::string head = read_head(s); head.starts_with("GET / "); head = read_head(s))
      s.send(respond(html, checksum_of(html)));
  });
  EXPECT_EQ(raw.errors(), std::vector<std::int64_t>{err(ClientError::io_error)});
  std::vector<std::pair<std::uint64_t, std::int64_t>> starts;  // (conn, reused) of /a.js
  for (const auto& e : raw.log.events())
    if (e.is(ClientEvent::request_start) && e.request == 2) starts.emplace_back(e.conn, e.a);
  // Sent on the page's connection (reused), then once more on a new one, which also failed.
  EXPECT_EQ(starts, (std::vector<std::pair<std::uint64_t, std::int64_t>>{{1, 1}, {2, 0}}));
}

TEST(ReplayHostile, ChunkedAndCloseDelimitedBodiesAreVerifiedToo) {
  const std::string html = R"(<script src="/a.js"></script><img src="/b.png">)";
  const std::string b = std::string(3000, 'b');
  Raw raw([&](test::Socket& s, std::int64_t) {
    for (std::string head = read_head(s); !head.empty(); head = read_head(s)) {
      if (head.starts_with("GET / ")) {
        s.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Satlink-Checksum: " +
               checksum_of(html) + "\r\n\r\n5\r\n" + html.substr(0, 5) + "\r\n" +
               (std::stringstream() << std::hex << html.size() - 5).str() + "\r\n" +
               html.substr(5) + "\r\n0\r\n\r\n");
      } else if (head.starts_with("GET /a.js ")) {
        s.send("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nok()");  // nothing to check
      } else {
        s.send("HTTP/1.0 200 OK\r\nX-Satlink-Checksum: " + checksum_of(b) + "\r\n\r\n" + b);
        return;  // the close ends the body
      }
    }
  });
  EXPECT_TRUE(raw.errors().empty()) << raw.result.first_error;
  EXPECT_EQ(raw.page_end_b(), 1);
  std::map<std::uint64_t, std::pair<std::int64_t, std::int64_t>> ends;  // request: bytes, check
  for (const auto& e : raw.log.events())
    if (e.is(ClientEvent::response_end)) ends[e.request] = {e.b, e.c};
  using P = std::pair<std::int64_t, std::int64_t>;
  EXPECT_EQ(ends[1], P(static_cast<std::int64_t>(html.size()), 1));
  EXPECT_EQ(ends[2], P(4, -1));  // no X-Satlink-Checksum: not verified, not failed
  EXPECT_EQ(ends[3], P(3000, 1));
}

TEST(ReplayHostile, WithoutKeepAliveAConnectionIsNotReusedEvenIfTheServerWouldKeepIt) {
  const std::string html = R"(<script src="/a.js"></script><script src="/b.js"></script>)";
  std::atomic<int> connections{0};
  EventLog log;
  test::RawPeer peer([&](test::Socket& s, std::int64_t) {
    ++connections;
    for (std::string head = read_head(s); !head.empty(); head = read_head(s))
      s.send(head.starts_with("GET / ") ? respond(html, checksum_of(html))
                                        : respond("x", checksum_of("x")));  // never says close
  });
  ReplayOptions o;
  o.port = peer.port();
  o.keep_alive = false;
  const ReplayResult result = Replay(o, &log).run();
  EXPECT_EQ(result.users_ok, 1u) << result.first_error;
  EXPECT_EQ(connections.load(), 3);
}

TEST(Replay, TlsAgainstAPlainServerIsATlsFailure) {
  Bed bed(page_of(2));
  ReplayOptions o = bed.options();
  o.tls = true;
  const ReplayResult result = bed.run(o);
  EXPECT_EQ(result.users_failed, 1u);
  EXPECT_EQ(bed.count(ClientEvent::error, err(ClientError::tls_failed)), 1);
  EXPECT_EQ(bed.count(ClientEvent::tls_end, -1), 1);
  EXPECT_NE(bed.client(ClientEvent::connect_end).at(0).a, 0);
}

TEST(Replay, AMissingPageIsAnHttpStatusFailure) {
  Bed bed(page_of(2));
  ReplayOptions o = bed.options();
  o.page_path = "/missing.html";
  const ReplayResult result = bed.run(o);
  EXPECT_EQ(result.users_failed, 1u);
  EXPECT_EQ(result.requests.size(), 1u);  // nothing to parse
  const LogEvent end = bed.client(ClientEvent::response_end).at(0);
  EXPECT_EQ(end.a, 404);
  EXPECT_EQ(end.c, 1);  // the origin's error body has its checksum too
  EXPECT_EQ(bed.count(ClientEvent::error, err(ClientError::http_status)), 1);
  EXPECT_EQ(bed.client(ClientEvent::page_end).at(0).b, 0);
}

TEST(Replay, RunsOnAnIoContextWithSeveralThreads) {
  Bed bed(page_of(10), {}, delay(5));
  ReplayOptions o = bed.options();
  o.users = 4;
  o.pipelining = 2;
  boost::asio::io_context ioc;
  Replay replay(o, &bed.log);
  ReplayResult result;
  replay.start_on(ioc, [&](const ReplayResult& r) { result = r; });
  std::thread other([&] { ioc.run(); });
  ioc.run();
  other.join();
  expect_complete_load(bed, result, 4);
}

TEST(Replay, DestroyingARunningReplayCancelsIt) {
  Bed bed(page_of(10), {}, delay(100));
  boost::asio::io_context ioc;
  ReplayResult result;
  {
    Replay replay(bed.options(), &bed.log);
    replay.start_on(ioc, [&](const ReplayResult& r) { result = r; });
    ioc.run_one();  // started: the connection is being opened
  }
  const std::int64_t t0 = now_ns();
  ioc.run();
  EXPECT_LT((now_ns() - t0) / kMs, 1000);
  EXPECT_EQ(result.users_failed, 1u);
  EXPECT_EQ(bed.count(ClientEvent::error, err(ClientError::cancelled)), 1);
}

TEST(Replay, CancelFromAnotherThreadEndsTheLoadPromptly) {
  Bed bed(page_of(12), {}, delay(200));
  Replay replay(bed.options(), &bed.log);
  std::int64_t cancelled_at = 0;
  std::thread canceller([&] {
    // Once the resources are wanted: some on the wire, some waiting for a connection.
    bed.log.wait_for(
        [](const auto& v) {
          return std::any_of(v.begin(), v.end(), [](const LogEvent& e) {
            return e.is(ClientEvent::request_sent) && e.request > 6;
          });
        },
        10s);
    cancelled_at = now_ns();
    replay.cancel();
  });
  const ReplayResult result = replay.run();
  const std::int64_t returned_at = now_ns();
  canceller.join();
  EXPECT_LT((returned_at - cancelled_at) / kMs, 1000);
  EXPECT_EQ(result.users_failed, 1u);
  EXPECT_EQ(bed.client(ClientEvent::page_end).at(0).b, 0);
  EXPECT_EQ(bed.count(ClientEvent::error, err(ClientError::cancelled)), 12);
  expect_one_outcome_each(bed);
  EXPECT_EQ(bed.client(ClientEvent::close).size(), bed.client(ClientEvent::connect_start).size());
}

TEST(Replay, RejectsBadOptions) {
  const std::vector<std::function<void(ReplayOptions&)>> bad = {
      [](ReplayOptions& o) { o.host = "localhost"; },
      [](ReplayOptions& o) { o.port = 0; },
      [](ReplayOptions& o) { o.connections_per_host = 0; },
      [](ReplayOptions& o) { o.connections_per_host = 65; },
      [](ReplayOptions& o) { o.pipelining = 0; },
      [](ReplayOptions& o) { o.users = 0; },
      [](ReplayOptions& o) { o.tls_version = 11; },
      [](ReplayOptions& o) { o.timeout_ms = 0; },
      [](ReplayOptions& o) { o.idle_hold_ms = -1; },
      [](ReplayOptions& o) { o.page_path = "index.html"; },
      [](ReplayOptions& o) { o.host_header = "a b"; },
  };
  for (const auto& tweak : bad) {
    ReplayOptions o;
    o.port = 80;
    tweak(o);
    EXPECT_THROW(Replay(o, nullptr), std::invalid_argument);
  }
}

}  // namespace
}  // namespace satlink::simulator
