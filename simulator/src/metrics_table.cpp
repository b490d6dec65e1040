// The metric descriptor table that drives every export of TrialMetrics, and the statistics
// over repetitions (mean, median, sd, Student's t interval). The computation from events is in
// metrics.cpp (per request) and metrics_trial.cpp (per trial).
#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "satlink/simulator/metrics.hpp"

namespace satlink::simulator {

namespace {

template <auto Field>
double field(const TrialMetrics& m) {
  return static_cast<double>(m.*Field);
}

// One row per column of results.csv, in column order.
constexpr MetricDescriptor kTrialMetrics[] = {
    {"page_load_ms", "ms", "page_start to page_end, mean over users whose page loaded",
     &field<&TrialMetrics::page_load_ms>},
    {"page_load_max_ms", "ms", "page_start to page_end, slowest user",
     &field<&TrialMetrics::page_load_max_ms>},
    {"html_ttfb_ms", "ms", "HTML queued to its first response byte, mean over users",
     &field<&TrialMetrics::html_ttfb_ms>},
    {"users_ok", "count", "users whose page loaded", &field<&TrialMetrics::users_ok>},
    {"users_failed", "count", "users whose page failed or never ended",
     &field<&TrialMetrics::users_failed>},
    {"requests", "count", "requests the browser queued", &field<&TrialMetrics::requests>},
    {"client_connections", "count", "connections the browser opened",
     &field<&TrialMetrics::client_connections>},
    {"proxy_client_connections", "count", "connections the proxy accepted",
     &field<&TrialMetrics::proxy_client_connections>},
    {"proxy_server_connections", "count", "connections the proxy opened to the origin",
     &field<&TrialMetrics::proxy_server_connections>},
    {"origin_connections", "count", "connections the origin accepted",
     &field<&TrialMetrics::origin_connections>},
    {"client_setup_ms", "ms", "sum of the client link's emulated handshakes",
     &field<&TrialMetrics::client_setup_ms>},
    {"server_setup_ms", "ms", "sum of the server link's emulated handshakes",
     &field<&TrialMetrics::server_setup_ms>},
    {"client_setup_critical_ms", "ms",
     "client-link set-up while no response byte reached the browser",
     &field<&TrialMetrics::client_setup_critical_ms>},
    {"server_setup_critical_ms", "ms",
     "server-link set-up while no response byte reached the browser",
     &field<&TrialMetrics::server_setup_critical_ms>},
    {"client_tls_handshakes", "count", "TLS handshakes by the browser",
     &field<&TrialMetrics::client_tls_handshakes>},
    {"server_tls_handshakes", "count", "TLS handshakes towards the origin",
     &field<&TrialMetrics::server_tls_handshakes>},
    {"reuse_ratio", "ratio", "requests on reused browser connections / requests started",
     &field<&TrialMetrics::reuse_ratio>},
    {"server_reuse_ratio", "ratio", "proxy: reused server connections / server connections used",
     &field<&TrialMetrics::server_reuse_ratio>},
    {"bytes_down", "bytes", "bytes the client link delivered to the browser",
     &field<&TrialMetrics::bytes_down>},
    {"bytes_up", "bytes", "bytes the client link delivered from the browser",
     &field<&TrialMetrics::bytes_up>},
    {"origin_peak_connections", "count", "most connections open at the origin at once",
     &field<&TrialMetrics::origin_peak_connections>},
    {"origin_mean_connections", "count", "origin connections open, time-weighted over the trial",
     &field<&TrialMetrics::origin_mean_connections>},
    {"origin_idle_connection_seconds", "connection-seconds",
     "integral of idle origin connections over the trial",
     &field<&TrialMetrics::origin_idle_connection_seconds>},
    {"origin_peak_memory_bytes", "bytes", "peak estimated origin memory for connections",
     &field<&TrialMetrics::origin_peak_memory_bytes>},
    {"retries", "count", "requests resent (proxy retries and browser re-attempts)",
     &field<&TrialMetrics::retries>},
    {"errors", "count", "failed or unfinished requests", &field<&TrialMetrics::errors>},
    {"trial_ms", "ms", "first page_start to the last event",
     [](const TrialMetrics& m) { return m.duration_ms(); }},
};

// Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom.
constexpr std::array<double, 30> kT975{
    12.70620474, 4.30265273,  3.182446305, 2.776445105, 2.570581836, 2.446911851,
    2.364624252, 2.306004135, 2.262157163, 2.228138852, 2.20098516,  2.17881283,
    2.160368656, 2.144786688, 2.131449546, 2.119905299, 2.109815578, 2.10092204,
    2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.06865761,  2.063898562,
    2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456};

}  // namespace

std::span<const MetricDescriptor> trial_metric_descriptors() {
  return kTrialMetrics;
}

double student_t_975(std::size_t df) {
  if (df == 0) return 0;
  if (df <= kT975.size()) return kT975[df - 1];
  // Cornish-Fisher expansion around the normal quantile: within 3e-6 of the exact value at 31.
  const double z = 1.959963984540054, v = static_cast<double>(df);
  const double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z;
  return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v);
}

Aggregate aggregate(std::vector<double> values) {
  Aggregate a;
  a.n = values.size();
  if (values.empty()) return a;
  std::sort(values.begin(), values.end());
  const double n = static_cast<double>(a.n);
  a.min = values.front();
  a.max = values.back();
  a.mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  const std::size_t mid = a.n / 2;
  a.median = a.n % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  if (a.n > 1) {
    double squares = 0;
    for (double x : values) squares += (x - a.mean) * (x - a.mean);
    a.sd = std::sqrt(squares / (n - 1));
  }
  const double half = a.n > 1 ? student_t_975(a.n - 1) * a.sd / std::sqrt(n) : 0;
  a.ci95_low = a.mean - half;
  a.ci95_high = a.mean + half;
  return a;
}

}  // namespace satlink::simulator
