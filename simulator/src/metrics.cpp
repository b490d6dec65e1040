#include "satlink/simulator/metrics.hpp"

#include "metrics_handshake.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>

namespace satlink::simulator {

namespace {

using Events = std::vector<LogEvent>;
using Time = std::optional<std::int64_t>;
constexpr double kNsPerMs = 1e6;

// Components append from several threads and a link logs setup_end at its future release
// time, so arrival order is not time order. Stable: equal times keep their arrival order.
Events sorted(const Events& in) {
  Events out = in;
  std::stable_sort(out.begin(), out.end(),
                   [](const LogEvent& x, const LogEvent& y) { return x.t_ns < y.t_ns; });
  return out;
}

double span_ms(Time from, Time to) {
  return from && to ? (*to - *from) / kNsPerMs : -1;
}

Time latest(Time x, Time y) {
  if (!x) return y;
  if (!y) return x;
  return std::max(*x, *y);
}

Time earliest(std::initializer_list<Time> times) {
  Time out;
  for (Time t : times) {
    if (t && (!out || *t < *out)) out = t;
  }
  return out;
}

// --- the browser's side, gathered per request and per connection ---------------------------

struct RequestRecord {
  Time queued, start, sent, response_start, response_end, error_at;
  std::uint64_t conn = 0;
  std::uint32_t user = 0, index = 0;
  bool reused = false, checksum_ok = false;
  int status = 0;
  std::uint64_t body = 0;
  ClientError error = ClientError::none;
  int starts = 0;  // more than one: the client re-sent it
};

struct ConnectionRecord {
  Time connect_start, connect_end, tls_start, tls_end;
  std::uint64_t id = 0;
  std::uint64_t requested_by = 0;  // connect_start's request
};

struct ClientLog {
  std::map<std::uint64_t, RequestRecord> requests;
  std::map<std::uint64_t, ConnectionRecord> connections;
  std::uint32_t loose_errors = 0;  // error events naming no request
};

void add_request_event(RequestRecord& r, ClientEvent kind, const LogEvent& e) {
  switch (kind) {
    case ClientEvent::request_queued:
      if (!r.queued) r.queued = e.t_ns;
      r.index = static_cast<std::uint32_t>(e.a);
      r.user = static_cast<std::uint32_t>(e.b);
      break;
    case ClientEvent::request_start:
      r.start = e.t_ns;
      r.conn = e.conn;
      r.reused = e.a == 1;
      ++r.starts;
      break;
    case ClientEvent::request_sent:
      r.sent = e.t_ns;
      break;
    case ClientEvent::response_start:
      r.response_start = e.t_ns;
      break;
    case ClientEvent::response_end:
      r.response_end = e.t_ns;
      r.status = static_cast<int>(e.a);
      r.body = static_cast<std::uint64_t>(std::max<std::int64_t>(e.b, 0));
      r.checksum_ok = e.c == 1;
      break;
    case ClientEvent::error:
      r.error = static_cast<ClientError>(e.a);
      r.error_at = e.t_ns;
      break;
    default:
      break;
  }
}

ClientLog collect_client(const Events& events) {
  ClientLog log;
  for (const LogEvent& e : events) {
    if (e.component != Component::client) continue;
    const auto kind = static_cast<ClientEvent>(e.kind);
    switch (kind) {
      case ClientEvent::page_start:
      case ClientEvent::page_end:
      case ClientEvent::close:
        break;
      case ClientEvent::connect_start:
        log.connections[e.conn].id = e.conn;
        log.connections[e.conn].connect_start = e.t_ns;
        log.connections[e.conn].requested_by = e.request;
        break;
      case ClientEvent::connect_end:
        log.connections[e.conn].connect_end = e.t_ns;
        break;
      case ClientEvent::tls_start:
        log.connections[e.conn].tls_start = e.t_ns;
        break;
      case ClientEvent::tls_end:
        log.connections[e.conn].tls_end = e.t_ns;
        break;
      default:
        if (e.request != 0) {
          add_request_event(log.requests[e.request], kind, e);
        } else if (kind == ClientEvent::error) {
          ++log.loose_errors;
        }
    }
  }
  return log;
}

// Which connection's set-up each request pays for (HAR puts connect on one request): the first
// request started on a connection, unless it started as reused; a request that never started
// pays for the connection it asked for (a failed connect). Linear in requests: trials with
// thousands of users stay cheap.
std::map<std::uint64_t, const ConnectionRecord*> setup_payers(const ClientLog& log) {
  std::map<std::uint64_t, std::pair<std::int64_t, std::uint64_t>> first;  // conn -> start, id
  for (const auto& [id, r] : log.requests) {
    if (!r.start) continue;
    const auto [it, fresh] = first.try_emplace(r.conn, *r.start, id);
    if (!fresh && *r.start < it->second.first) it->second = {*r.start, id};
  }
  std::map<std::uint64_t, const ConnectionRecord*> payers;
  for (const auto& [conn, c] : log.connections) {
    const auto it = first.find(conn);
    if (it != first.end()) {
      if (!log.requests.at(it->second.second).reused) payers[it->second.second] = &c;
    } else if (const auto asked = log.requests.find(c.requested_by);
               asked != log.requests.end() && !asked->second.start) {
      payers[c.requested_by] = &c;
    }
  }
  return payers;
}

// On loopback the browser's connect returns at once; the client link holds its first bytes for
// the emulated handshake instead. What a browser would have spent connecting (handshake_ns) moves
// into connect, out of ssl (the held byte was the ClientHello) or else out of the first wait,
// never more than is there: blocked, time and the phases' sum stay as they were.
void attribute_handshake(RequestMetrics& m, const ConnectionRecord& c, std::int64_t handshake_ns) {
  const double held = static_cast<double>(handshake_ns) / kNsPerMs;
  if (held <= 0 || m.connect_ms < 0) return;
  if (c.tls_start) {  // connect includes ssl: only the split between them moves
    m.ssl_ms -= std::clamp(held, 0.0, std::max(0.0, m.ssl_ms));
  } else {
    const double take = std::clamp(held, 0.0, std::max(0.0, m.wait_ms));
    m.connect_ms += take;
    m.wait_ms -= take;
  }
}

RequestMetrics to_metrics(std::uint64_t id, const RequestRecord& r, const ConnectionRecord* c,
                          std::int64_t handshake_ns) {
  RequestMetrics m;
  m.request = id;
  m.connection = r.conn;
  m.user = r.user;
  m.resource_index = r.index;
  m.reused = r.reused;
  m.complete = r.response_end.has_value();
  m.status = r.status;
  m.body_bytes = r.body;
  m.checksum_ok = r.checksum_ok;
  m.error = r.error;
  // Without request_queued (a damaged log), the request's earliest event stands in for it.
  m.queued_ns = earliest({r.queued, r.start, r.sent, r.response_start, r.response_end, r.error_at,
                          c ? c->connect_start : Time{}})
                    .value_or(0);
  if (c) {
    // HAR's connect includes ssl: from connect_start to whichever of TCP or TLS ended last.
    m.connect_ms = span_ms(c->connect_start, latest(c->connect_end, c->tls_end));
    m.ssl_ms = span_ms(c->tls_start, c->tls_end);
  }
  if (r.queued && r.start) {
    m.blocked_ms = std::max(0.0, span_ms(r.queued, r.start) - std::max(0.0, m.connect_ms));
  }
  m.send_ms = span_ms(r.start, r.sent);
  m.wait_ms = span_ms(r.sent, r.response_start);
  m.receive_ms = span_ms(r.response_start, r.response_end);
  if (c) attribute_handshake(m, *c, handshake_ns);
  return m;
}

// --- interval arithmetic for the critical-path set-up ---------------------------------------

struct Interval {
  std::int64_t begin = 0, end = 0;
};
using Intervals = std::vector<Interval>;

Intervals merged(Intervals v) {
  std::erase_if(v, [](const Interval& i) { return i.end <= i.begin; });
  std::sort(v.begin(), v.end(),
            [](const Interval& x, const Interval& y) { return x.begin < y.begin; });
  Intervals out;
  for (const Interval& i : v) {
    if (!out.empty() && i.begin <= out.back().end) {
      out.back().end = std::max(out.back().end, i.end);
    } else {
      out.push_back(i);
    }
  }
  return out;
}

Intervals intersect(const Intervals& x, const Intervals& y) {  // both merged
  Intervals out;
  std::size_t i = 0, j = 0;
  while (i < x.size() && j < y.size()) {
    const std::int64_t begin = std::max(x[i].begin, y[j].begin);
    const std::int64_t end = std::min(x[i].end, y[j].end);
    if (begin < end) out.push_back({begin, end});
    if (x[i].end < y[j].end) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

Intervals subtract(const Intervals& x, const Intervals& y) {  // both merged
  Intervals gaps;
  std::int64_t from = std::numeric_limits<std::int64_t>::min();
  for (const Interval& i : y) {
    gaps.push_back({from, i.begin});
    from = i.end;
  }
  gaps.push_back({from, std::numeric_limits<std::int64_t>::max()});
  return intersect(x, merged(gaps));
}

double total_ms(const Intervals& v) {
  return std::accumulate(v.begin(), v.end(), 0.0, [](double s, const Interval& i) {
    return s + (i.end - i.begin) / kNsPerMs;
  });
}

Intervals setup_spans(const Events& events, Component side) {
  std::map<std::uint64_t, std::pair<Time, Time>> spans;
  for (const LogEvent& e : events) {
    if (e.component != side) continue;
    if (e.is(LinkEvent::setup_start)) spans[e.conn].first = e.t_ns;
    if (e.is(LinkEvent::setup_end)) spans[e.conn].second = e.t_ns;
  }
  Intervals out;
  for (const auto& [conn, s] : spans) {
    if (s.first && s.second && *s.second >= *s.first) out.push_back({*s.first, *s.second});
  }
  return out;
}

// --- the trial -------------------------------------------------------------------------------

std::int64_t window_start(const Events& sorted_events) {
  for (const LogEvent& e : sorted_events) {
    if (e.is(ClientEvent::page_start)) return e.t_ns;
  }
  return sorted_events.front().t_ns;
}

void page_figures(const std::vector<PageLoad>& loads, const ClientLog& log, TrialMetrics& m) {
  std::vector<double> load_ms, ttfb_ms;
  for (const PageLoad& p : loads) {
    if (p.load_ms() >= 0) load_ms.push_back(p.load_ms());
  }
  m.users_ok = static_cast<std::uint32_t>(load_ms.size());
  m.users_failed = static_cast<std::uint32_t>(loads.size() - load_ms.size());
  for (const auto& [id, r] : log.requests) {
    if (r.index == 0 && r.queued && r.response_start) {
      ttfb_ms.push_back(span_ms(r.queued, r.response_start));
    }
  }
  if (!load_ms.empty()) {
    m.page_load_ms = aggregate(load_ms).mean;
    m.page_load_max_ms = *std::max_element(load_ms.begin(), load_ms.end());
  }
  if (!ttfb_ms.empty()) m.html_ttfb_ms = aggregate(ttfb_ms).mean;
}

void client_figures(const Events& events, const ClientLog& log, TrialMetrics& m) {
  std::uint32_t started = 0, reused = 0;
  for (const auto& [id, r] : log.requests) {
    started += r.start ? 1 : 0;
    reused += r.start && r.reused ? 1 : 0;
    m.retries += static_cast<std::uint32_t>(std::max(0, r.starts - 1));
    m.errors += (r.error != ClientError::none || !r.response_end) ? 1 : 0;
  }
  m.requests = static_cast<std::uint32_t>(log.requests.size());
  m.errors += log.loose_errors;
  if (started > 0) m.reuse_ratio = static_cast<double>(reused) / started;
  for (const LogEvent& e : events) {
    m.client_connections += e.is(ClientEvent::connect_start) ? 1 : 0;
    m.client_tls_handshakes += e.is(ClientEvent::tls_end) ? 1 : 0;
    if (e.is(LinkEvent::chunk_out) && e.component == Component::client_link) {
      (e.dir == 0 ? m.bytes_up : m.bytes_down) +=
          static_cast<std::uint64_t>(std::max<std::int64_t>(e.a, 0));
    }
  }
}

void server_figures(const Events& events, TrialMetrics& m) {
  const bool proxied = std::any_of(events.begin(), events.end(), [](const LogEvent& e) {
    return e.component == Component::proxy;
  });
  std::uint32_t reuses = 0;
  for (const LogEvent& e : events) {
    using proxycore::EventKind;
    m.proxy_client_connections += e.is(EventKind::client_accept) ? 1 : 0;
    m.proxy_server_connections += e.is(EventKind::server_connect_start) ? 1 : 0;
    reuses += e.is(EventKind::server_reuse) ? 1 : 0;
    m.retries += e.is(EventKind::retry) ? 1 : 0;
    m.origin_connections += e.is(OriginEvent::accept) ? 1 : 0;
    const bool server_tls = proxied
                                ? e.is(EventKind::tls_handshake_end) &&
                                      e.dir == static_cast<std::uint8_t>(proxycore::Side::server)
                                : e.is(OriginEvent::tls_handshake_end);
    m.server_tls_handshakes += server_tls ? 1 : 0;
  }
  if (reuses + m.proxy_server_connections > 0) {
    m.server_reuse_ratio = static_cast<double>(reuses) / (reuses + m.proxy_server_connections);
  }
}

// Integral over [start, end] of a step function given by (t, value) samples, in value x ns.
template <typename Value>
double integral(const Events& events, std::int64_t start, std::int64_t end, Value value) {
  double sum = 0, current = 0;
  std::int64_t from = start;
  for (const LogEvent& e : events) {
    if (!e.is(OriginEvent::occupancy)) continue;
    if (e.t_ns > end) break;
    if (e.t_ns > from) {
      sum += current * static_cast<double>(e.t_ns - from);
      from = e.t_ns;
    }
    current = value(e);
  }
  return sum + current * static_cast<double>(std::max<std::int64_t>(end - from, 0));
}

void origin_figures(const Events& events, TrialMetrics& m) {
  for (const LogEvent& e : events) {
    if (!e.is(OriginEvent::occupancy)) continue;
    m.origin_peak_connections =
        std::max(m.origin_peak_connections, static_cast<std::uint32_t>(e.a + e.b));
    m.origin_peak_memory_bytes = std::max(m.origin_peak_memory_bytes, static_cast<double>(e.c));
  }
  const auto open = [](const LogEvent& e) { return static_cast<double>(e.a + e.b); };
  const auto idle = [](const LogEvent& e) { return static_cast<double>(e.b); };
  if (m.end_ns > m.start_ns) {
    m.origin_mean_connections =
        integral(events, m.start_ns, m.end_ns, open) / static_cast<double>(m.end_ns - m.start_ns);
  }
  m.origin_idle_connection_seconds = integral(events, m.start_ns, m.end_ns, idle) / 1e9;
}

// Set-up is on the critical path while a set-up span runs within a user's page load and no
// response byte is reaching the browser: the user is waiting for handshakes and nothing else.
void setup_figures(const Events& events, const std::vector<PageLoad>& loads, const ClientLog& log,
                   TrialMetrics& m) {
  Intervals pages, responses;
  for (const PageLoad& p : loads) {
    pages.push_back({p.start_ns, p.end_ns >= 0 ? p.end_ns : m.end_ns});
  }
  if (loads.empty()) pages.push_back({m.start_ns, m.end_ns});
  for (const auto& [id, r] : log.requests) {
    if (!r.response_start) continue;
    const std::int64_t end = r.response_end ? *r.response_end : r.error_at.value_or(m.end_ns);
    responses.push_back({*r.response_start, end});
  }
  const Intervals page_time = merged(pages);
  const Intervals flowing = merged(responses);
  const auto figures = [&](Component side, double& sum_ms, double& critical_ms) {
    const Intervals spans = setup_spans(events, side);
    sum_ms = total_ms(spans);
    critical_ms = total_ms(subtract(intersect(merged(spans), page_time), flowing));
  };
  figures(Component::client_link, m.client_setup_ms, m.client_setup_critical_ms);
  figures(Component::server_link, m.server_setup_ms, m.server_setup_critical_ms);
}

// A step series that starts at 0 at t = 0; samples before the window fold into t = 0.
void push_step(std::vector<SeriesPoint>& series, std::int64_t start, std::int64_t t, double value) {
  const double t_ms = std::max(0.0, (t - start) / kNsPerMs);
  if (series.empty()) series.push_back({0, 0});
  if (series.back().t_ms == t_ms) {
    series.back().value = value;
  } else {
    series.push_back({t_ms, value});
  }
}

}  // namespace

double RequestMetrics::time_ms() const {
  // ssl is inside connect (HAR 1.2), so it is not added again.
  double sum = 0;
  for (double t : {blocked_ms, dns_ms, connect_ms, send_ms, wait_ms, receive_ms}) {
    if (t > 0) sum += t;
  }
  return sum;
}

std::vector<RequestMetrics> request_metrics(const std::vector<LogEvent>& events) {
  const Events ev = sorted(events);
  const ClientLog log = collect_client(ev);
  std::vector<RequestMetrics> out;
  const auto payers = setup_payers(log);
  const auto handshakes = metrics_detail::emulated_handshake_ns(ev);
  for (const auto& [id, r] : log.requests) {
    const auto paid = payers.find(id);
    const ConnectionRecord* c = paid == payers.end() ? nullptr : paid->second;
    const auto h = c ? handshakes.find(c->id) : handshakes.end();
    out.push_back(to_metrics(id, r, c, h == handshakes.end() ? 0 : h->second));
  }
  std::stable_sort(out.begin(), out.end(), [](const RequestMetrics& x, const RequestMetrics& y) {
    return x.queued_ns < y.queued_ns;
  });
  return out;
}

std::vector<PageLoad> page_loads(const std::vector<LogEvent>& events) {
  std::map<std::uint32_t, PageLoad> loads;
  for (const LogEvent& e : sorted(events)) {
    const auto user = static_cast<std::uint32_t>(e.a);
    if (e.is(ClientEvent::page_start) && !loads.contains(user)) {
      loads[user] = PageLoad{user, e.t_ns, -1, false};
    } else if (e.is(ClientEvent::page_end) && loads.contains(user)) {
      loads[user].end_ns = e.t_ns;
      loads[user].ok = e.b == 1;
    }
  }
  std::vector<PageLoad> out;
  for (const auto& [user, p] : loads) out.push_back(p);
  return out;
}

TrialMetrics trial_metrics(const std::vector<LogEvent>& events) {
  TrialMetrics m;
  const Events ev = sorted(events);
  if (ev.empty()) return m;
  m.start_ns = window_start(ev);
  m.end_ns = ev.back().t_ns;
  const ClientLog log = collect_client(ev);
  const std::vector<PageLoad> loads = page_loads(ev);
  page_figures(loads, log, m);
  client_figures(ev, log, m);
  server_figures(ev, m);
  origin_figures(ev, m);
  setup_figures(ev, loads, log, m);
  return m;
}

OccupancySeries occupancy_series(const std::vector<LogEvent>& events) {
  OccupancySeries s;
  const Events ev = sorted(events);
  if (ev.empty()) return s;
  const std::int64_t start = window_start(ev);
  std::set<std::uint64_t> open;
  for (const LogEvent& e : ev) {
    if (e.is(ClientEvent::connect_end) && e.a == 0) {
      open.insert(e.conn);
      push_step(s.client_open, start, e.t_ns, static_cast<double>(open.size()));
    } else if (e.is(ClientEvent::close) && open.erase(e.conn) > 0) {
      push_step(s.client_open, start, e.t_ns, static_cast<double>(open.size()));
    } else if (e.is(OriginEvent::occupancy)) {
      push_step(s.origin_active, start, e.t_ns, static_cast<double>(e.a));
      push_step(s.origin_idle, start, e.t_ns, static_cast<double>(e.b));
      push_step(s.origin_memory, start, e.t_ns, static_cast<double>(e.c));
    }
  }
  return s;
}

}  // namespace satlink::simulator
