// Metrics of one trial, computed from its event log and from nothing else (docs/metrics.md
// defines each one in terms of events). Pure functions: no sockets, no clock, no Qt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "satlink/simulator/event_log.hpp"

namespace satlink::simulator {

// One replayed request, HAR-shaped: timings in ms, -1 when the phase never happened.
struct RequestMetrics {
  std::uint64_t request = 0;
  std::uint64_t connection = 0;  // client connection id of its (last) attempt; 0 if none
  std::uint32_t user = 0;
  std::uint32_t resource_index = 0;  // 0 = the page, i = the i-th URL of the HTML
  bool reused = false;               // sent on a connection that had carried a request before
  bool complete = false;             // its response_end was logged
  int status = 0;
  std::uint64_t body_bytes = 0;
  bool checksum_ok = false;
  ClientError error = ClientError::none;
  std::int64_t queued_ns = 0;  // absolute, steady clock (HAR startedDateTime)
  double blocked_ms = -1, dns_ms = -1, connect_ms = -1, ssl_ms = -1;
  double send_ms = -1, wait_ms = -1, receive_ms = -1;

  bool failed() const { return error != ClientError::none || !complete; }
  double time_ms() const;  // HAR: sum of the non-negative timings, ssl counted inside connect
};

// One user's page load: page_start -> page_end.
struct PageLoad {
  std::uint32_t user = 0;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = -1;  // -1: no page_end was logged
  bool ok = false;           // page_end said ok
  double load_ms() const { return ok && end_ns >= start_ns ? (end_ns - start_ns) / 1e6 : -1; }
};

struct TrialMetrics {
  double page_load_ms = -1;      // mean over the users whose page loaded
  double page_load_max_ms = -1;  // max over the same users
  double html_ttfb_ms = -1;      // page's request_queued -> its response_start, mean over users
  std::uint32_t users_ok = 0, users_failed = 0;
  std::uint32_t requests = 0;                       // requests the browser queued
  std::uint32_t client_connections = 0;             // ClientEvent::connect_start
  std::uint32_t proxy_client_connections = 0;       // proxy client_accept (0 without a proxy)
  std::uint32_t proxy_server_connections = 0;       // proxy server_connect_start
  std::uint32_t origin_connections = 0;             // OriginEvent::accept
  double client_setup_ms = 0, server_setup_ms = 0;  // sum of the links' set-up spans
  double client_setup_critical_ms = 0, server_setup_critical_ms = 0;  // see docs/metrics.md
  std::uint32_t client_tls_handshakes = 0, server_tls_handshakes = 0;
  double reuse_ratio = -1;         // requests started on reused client connections / started
  double server_reuse_ratio = -1;  // proxy: reuses / (reuses + server connects)
  std::uint64_t bytes_down = 0, bytes_up = 0;  // client link chunk_out per direction
  std::uint32_t origin_peak_connections = 0;
  double origin_mean_connections = 0;  // time-weighted over the trial window
  double origin_idle_connection_seconds = 0;
  double origin_peak_memory_bytes = 0;
  std::uint32_t retries = 0;              // proxy retries + client re-attempts of a request
  std::uint32_t errors = 0;               // failed requests + client errors not tied to a request
  std::int64_t start_ns = 0, end_ns = 0;  // trial window: first page_start .. last event

  double duration_ms() const { return (end_ns - start_ns) / 1e6; }
};

// Sorted by queued time, then request id.
std::vector<RequestMetrics> request_metrics(const std::vector<LogEvent>& events);
// Sorted by user.
std::vector<PageLoad> page_loads(const std::vector<LogEvent>& events);
TrialMetrics trial_metrics(const std::vector<LogEvent>& events);

// One table drives every export of TrialMetrics: results.csv columns, GUI columns, tooltips.
struct MetricDescriptor {
  std::string_view name;
  std::string_view unit;
  std::string_view description;
  double (*get)(const TrialMetrics&);
};

std::span<const MetricDescriptor> trial_metric_descriptors();

// Over trials. sd with n-1; the 95 % confidence interval of the mean uses Student's t (exact
// table to 30 degrees of freedom, Cornish-Fisher beyond). n = 1: sd 0, ci = mean; n = 0: all 0.
// Callers drop "not applicable" values (-1) before aggregating.
struct Aggregate {
  std::size_t n = 0;
  double mean = 0, median = 0, min = 0, max = 0, sd = 0, ci95_low = 0, ci95_high = 0;
};

Aggregate aggregate(std::vector<double> values);
double student_t_975(std::size_t degrees_of_freedom);  // two-sided 95 % quantile

// Step series for charts; t relative to the trial start (earlier samples fold into t = 0).
struct SeriesPoint {
  double t_ms = 0;
  double value = 0;
};

struct OccupancySeries {
  std::vector<SeriesPoint> client_open;  // browser connections: connect_end ok +1, close -1
  std::vector<SeriesPoint> origin_active, origin_idle, origin_memory;  // occupancy a, b, c
};

OccupancySeries occupancy_series(const std::vector<LogEvent>& events);

}  // namespace satlink::simulator
