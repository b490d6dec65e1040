// The client link's emulated TCP handshake, joined to the browser's connections: what a real
// browser would have spent in `connect` (request_metrics moves it there; docs/metrics.md).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "satlink/simulator/event_log.hpp"

namespace satlink::simulator::metrics_detail {

// Per client connection id (ClientEvent conn): the client link's set-up hold, setup_end -
// accept, in ns (>= 0). Connections the log cannot join (no client link events, no port, no
// setup_end) are absent.
std::map<std::uint64_t, std::int64_t> emulated_handshake_ns(const std::vector<LogEvent>& events);

}  // namespace satlink::simulator::metrics_detail
