// Metrics from a trial's event log, the browser's view: each request's HAR-style timings
// (request_metrics) and each user's page load (page_loads). The per-trial figures built on
// the same client records live in metrics_trial.cpp; the shared records in
// metrics_client_log.hpp.
#include "satlink/simulator/metrics.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "metrics_client_log.hpp"
#include "metrics_handshake.hpp"

namespace satlink::simulator {

namespace metrics_detail {

Events sorted(const Events& in) {
  Events out = in;
  std::stable_sort(out.begin(), out.end(),
                   [](const LogEvent& x, const LogEvent& y) { return x.t_ns < y.t_ns; });
  return out;
}

namespace {

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

}  // namespace

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

}  // namespace metrics_detail

namespace {

using metrics_detail::ClientLog;
using metrics_detail::ConnectionRecord;
using metrics_detail::Events;
using metrics_detail::kNsPerMs;
using metrics_detail::RequestRecord;
using metrics_detail::span_ms;
using metrics_detail::Time;

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
  const Events ev = metrics_detail::sorted(events);
  const ClientLog log = metrics_detail::collect_client(ev);
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
  for (const LogEvent& e : metrics_detail::sorted(events)) {
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

}  // namespace satlink::simulator
