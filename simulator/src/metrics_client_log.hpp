// The browser's side of a trial's event log, gathered per request and per connection. Shared
// by metrics.cpp (per-request timings, page loads) and metrics_trial.cpp (per-trial figures),
// which both read the same client records and measure spans the same way.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <vector>

#include "satlink/simulator/event_log.hpp"
#include "satlink/simulator/metrics.hpp"

namespace satlink::simulator::metrics_detail {

using Events = std::vector<LogEvent>;
using Time = std::optional<std::int64_t>;
constexpr double kNsPerMs = 1e6;

// Components append from several threads and a link logs setup_end at its future release
// time, so arrival order is not time order. Stable: equal times keep their arrival order.
Events sorted(const Events& in);

// -1 when either end is missing: the metrics' "not measured" value.
inline double span_ms(Time from, Time to) {
  return from && to ? (*to - *from) / kNsPerMs : -1;
}

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

// The client's events of a time-sorted log, keyed by request and connection id.
ClientLog collect_client(const Events& events);

}  // namespace satlink::simulator::metrics_detail
