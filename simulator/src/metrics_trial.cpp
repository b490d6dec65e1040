// Per-trial figures from a trial's event log (trial_metrics) and the occupancy step series
// for charts (occupancy_series). Split from metrics.cpp, which keeps the per-request timings;
// both read the browser's records from metrics_client_log.hpp. Includes the interval
// arithmetic that finds how much link set-up sat on the users' critical path.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <utility>
#include <vector>

#include "metrics_client_log.hpp"
#include "satlink/simulator/metrics.hpp"

namespace satlink::simulator {

namespace {

using metrics_detail::ClientLog;
using metrics_detail::Events;
using metrics_detail::kNsPerMs;
using metrics_detail::span_ms;
using metrics_detail::Time;

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

TrialMetrics trial_metrics(const std::vector<LogEvent>& events) {
  TrialMetrics m;
  const Events ev = metrics_detail::sorted(events);
  if (ev.empty()) return m;
  m.start_ns = window_start(ev);
  m.end_ns = ev.back().t_ns;
  const ClientLog log = metrics_detail::collect_client(ev);
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
  const Events ev = metrics_detail::sorted(events);
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
