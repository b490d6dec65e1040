// The live testbed's request rows and counters: LiveTally folds the event log into counters
// and one row per request as events arrive (the GUI polls it while a person browses), and
// live_counters / live_requests do the same over a finished log. Split from live_testbed.cpp,
// which keeps the testbed's lifecycle (start, stop, links changed while it runs).
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "satlink/simulator/live_testbed.hpp"

namespace satlink::simulator {

namespace {

bool has_proxy_events(const std::vector<LogEvent>& events) {
  for (const LogEvent& e : events)
    if (e.component == Component::proxy) return true;
  return false;
}

}  // namespace

LiveTally::LiveTally(bool proxied, std::size_t keep_requests)
    : proxied_(proxied), keep_(keep_requests) {}

void LiveTally::add(const LogEvent& e) {
  using proxycore::EventKind;
  LiveCounters& c = counters_;
  if (e.component == Component::client_link) {
    if (e.is(LinkEvent::accept)) {
      ++c.client_link_connections;
      ++c.client_link_open;
    }
    if (e.is(LinkEvent::close) && c.client_link_open > 0) --c.client_link_open;
  }
  if (e.is(EventKind::client_accept)) ++c.proxy_client_connections;
  if (e.is(EventKind::server_connect_start)) ++c.proxy_server_connections;
  if (e.is(EventKind::server_reuse)) ++c.proxy_server_reuses;
  if (e.is(EventKind::tls_handshake_end)) {
    ++(e.dir == static_cast<std::uint8_t>(proxycore::Side::client) ? c.client_tls_handshakes
                                                                   : c.server_tls_handshakes);
  }
  if (e.is(OriginEvent::accept)) ++c.origin_connections;
  if (e.is(OriginEvent::request)) ++c.origin_requests;
  if (e.is(OriginEvent::occupancy)) c.origin_open_connections = static_cast<std::uint64_t>(e.a + e.b);
  // With a proxy the origin's handshakes are the proxy's server side (counted above) seen from
  // the other end; without one they are the browser's.
  if (e.is(OriginEvent::tls_handshake_end) && !proxied_) {
    ++c.server_tls_handshakes;
    ++c.client_tls_handshakes;
  }
  if (proxied_) {
    add_proxy(e);
  } else {
    add_origin(e);
  }
}

// The proxy: request_head_start, response_head_sent, response_end and error carry the client
// connection; the server side's events carry only the request id.
void LiveTally::add_proxy(const LogEvent& e) {
  using proxycore::EventKind;
  if (e.component != Component::proxy) return;
  const Key key{e.conn, e.request};
  if (e.is(EventKind::request_head_start)) {
    LiveRequest r;
    r.start_ns = e.t_ns;
    r.connection = e.conn;
    r.index = ++served_[e.conn];
    open_[key] = r;
    by_request_[e.request] = key;
    ++counters_.requests;
  } else if (e.is(EventKind::server_connect_start) || e.is(EventKind::server_reuse)) {
    const auto k = by_request_.find(e.request);
    if (k == by_request_.end()) return;
    const auto it = open_.find(k->second);
    if (it == open_.end()) return;
    it->second.server_connection = e.conn;  // a retry's new connection replaces the failed one
    it->second.server_reused = e.is(EventKind::server_reuse);
  } else if (e.is(EventKind::response_head_sent)) {
    if (auto it = open_.find(key); it != open_.end()) it->second.status = static_cast<int>(e.a);
  } else if (e.is(EventKind::response_end)) {
    counters_.response_bytes += static_cast<std::uint64_t>(std::max<std::int64_t>(e.a, 0));
    if (auto it = open_.find(key); it != open_.end()) {
      it->second.bytes = static_cast<std::uint64_t>(std::max<std::int64_t>(e.a, 0));
      finish(it, e.t_ns);
    }
  } else if (e.is(EventKind::error)) {
    const auto kind = static_cast<proxycore::ErrorKind>(e.a);
    const auto it = open_.find(key);
    if (it == open_.end()) return;
    it->second.error = std::string(proxycore::to_string(kind));
    // An error with a status is answered (response_end follows); one without is not.
    if (proxycore::http_status(kind) == 0) finish(it, -1);
  } else if (e.is(EventKind::client_close)) {
    finish_connection(e.conn);
  }
}

// No proxy: the origin's events carry its connection and the 1-based index on it.
void LiveTally::add_origin(const LogEvent& e) {
  if (e.component != Component::origin) return;
  const Key key{e.conn, e.request};
  if (e.is(OriginEvent::request)) {
    LiveRequest r;
    r.start_ns = e.t_ns;
    r.connection = e.conn;
    r.index = static_cast<std::uint32_t>(e.request);
    open_[key] = r;
    ++counters_.requests;
  } else if (e.is(OriginEvent::response_start)) {
    if (auto it = open_.find(key); it != open_.end()) it->second.status = static_cast<int>(e.a);
  } else if (e.is(OriginEvent::response_end)) {
    counters_.response_bytes += static_cast<std::uint64_t>(std::max<std::int64_t>(e.a, 0));
    if (auto it = open_.find(key); it != open_.end()) {
      it->second.bytes = static_cast<std::uint64_t>(std::max<std::int64_t>(e.a, 0));
      finish(it, e.t_ns);
    }
  } else if (e.is(OriginEvent::close)) {
    finish_connection(e.conn);
  }
}

void LiveTally::finish(std::map<Key, LiveRequest>::iterator it, std::int64_t end_ns) {
  it->second.end_ns = end_ns;
  finished_.push_back(std::move(it->second));
  if (finished_.size() > keep_) finished_.pop_front();
  ++finished_total_;
  by_request_.erase(it->first.request);
  open_.erase(it);
}

// What is still open when its connection closes never completed (the browser went away, or the
// response was cut).
void LiveTally::finish_connection(std::uint64_t conn) {
  served_.erase(conn);
  auto it = open_.lower_bound(Key{conn, 0});
  while (it != open_.end() && it->first.conn == conn) {
    const auto next = std::next(it);
    finish(it, -1);
    it = next;
  }
}

std::vector<LiveRequest> LiveTally::in_flight() const {
  std::vector<LiveRequest> rows;
  rows.reserve(open_.size());
  for (const auto& [key, r] : open_) rows.push_back(r);
  return rows;
}

LiveCounters live_counters(const std::vector<LogEvent>& events) {
  LiveTally tally(has_proxy_events(events), 0);
  for (const LogEvent& e : events) tally.add(e);
  return tally.counters();
}

std::vector<LiveRequest> live_requests(const std::vector<LogEvent>& events) {
  LiveTally tally(has_proxy_events(events), std::numeric_limits<std::size_t>::max());
  for (const LogEvent& e : events) tally.add(e);
  std::vector<LiveRequest> rows(tally.finished().begin(), tally.finished().end());
  for (LiveRequest& r : tally.in_flight()) rows.push_back(std::move(r));
  return rows;
}

}  // namespace satlink::simulator
