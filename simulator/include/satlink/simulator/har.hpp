// HAR 1.2 export of one trial's requests (opens in Chrome DevTools and Firefox), and a
// validator of the HAR 1.2 field rules that tests and golden files use.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "satlink/simulator/metrics.hpp"

namespace satlink::simulator {

// What the event log does not know: names, URLs, types, and the wall clock.
struct HarPage {
  std::string title = "satlink trial";
  std::string url_base = "http://127.0.0.1";  // scheme://host[:port]; entry url = base + path
  std::vector<std::string> paths;             // by resource index: paths[0] = the page
  std::vector<std::string> types;             // MIME type by resource index; missing: "x-unknown"
  // One HAR page per user load. A user with entries but no load gets a page starting at its
  // first request, onLoad -1.
  std::vector<PageLoad> loads;
  std::int64_t wall_offset_ns = 0;  // system_clock - steady_clock, taken at trial start
  std::string creator_version = "0.1.0";
};

// Timings are rounded to the microsecond and `time` is their sum (ssl inside connect). Phases
// HAR requires (send, wait, receive) that never happened are written as 0; the failure is in
// `_error` and `_complete`.
nlohmann::json har_document(const std::vector<RequestMetrics>& requests, const HarPage& page);

// Wall-clock ns since the epoch (steady ns + wall_offset_ns) -> "2024-05-01T12:00:00.123Z".
std::string iso8601_utc(std::int64_t wall_ns);

// HAR 1.2 rules: required fields and their types, timings (send, wait, receive >= 0; the others
// >= 0 or -1), time = sum of the non-negative timings without ssl (within 0.01 ms), ISO 8601
// dates, pagerefs naming a page. Each problem is one message starting with its JSON path.
std::vector<std::string> validate_har(const nlohmann::json& har);

}  // namespace satlink::simulator
