// The link-level pieces of the analytic prediction (docs/analytic.md): a path's costs, a
// sender's slow-start window and a downlink's bottleneck. analytic_page.cpp replays a page load
// with them; analytic.cpp computes slow_start_rounds with the same window.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

namespace satlink::simulator::analytic_detail {

constexpr double kMinRtoMs = 200;  // Linux's minimum RTO, as the link's (link_model.hpp)
constexpr double kNeverMs = std::numeric_limits<double>::infinity();

// One path as the prediction sees it: the client link, the server link, or both in series (the
// no-proxy baseline).
struct Path {
  double rtt_ms = 0;
  double rate_bps = 0;            // the downlink's; 0 = unlimited
  double setup_rtts = 0;          // h_tcp + h_tls of a full handshake
  double resumed_setup_rtts = 0;  // h_tcp + h_tls of a resumed one (= setup_rtts without)
  bool slow_start = false;
  bool restart_after_idle = true;
  std::uint64_t initial_window_bytes = 0;

  double setup_ms() const { return setup_rtts * rtt_ms; }
  double rto_ms() const { return std::max(kMinRtoMs, 2 * rtt_ms); }
  double serialization_ms(std::uint64_t bytes) const {
    return rate_bps > 0 ? static_cast<double>(bytes) * 8e3 / rate_bps : 0;
  }
  // The link stops growing the window at the bandwidth-delay product (link_model.cpp).
  std::uint64_t max_window() const {
    if (rate_bps <= 0) return std::numeric_limits<std::uint64_t>::max();
    return std::max(initial_window_bytes, static_cast<std::uint64_t>(rate_bps * rtt_ms / 8e3));
  }
};

// A sender's congestion window in slow start, grown as the link grows it: by the bytes
// acknowledged per round, up to the bandwidth-delay product; back to the initial window after
// an idle period longer than the RTO (restart_after_idle). Whole responses, whole rounds.
struct Window {
  std::uint64_t cwnd = 0;           // 0: a fresh connection
  std::uint64_t sent_in_round = 0;  // in the last round
  double last_round_ms = 0;         // when the last round left (the link's last send)

  // Rounds k to send `bytes` whose first round leaves at t_ms; 1 without slow start.
  std::uint32_t send(std::uint64_t bytes, double t_ms, const Path& p);
};

// One direction's bottleneck, shared by every connection of the link: a FIFO of whole
// transfers in the order they become ready (the link's queue interleaves pieces instead; the
// last byte of a burst leaves at the same time either way).
struct Bottleneck {
  double busy_until_ms = 0;

  // When the last byte of a transfer of `ms` ready at `ready_ms` has left; a proxy relaying a
  // body cannot finish before its last byte has come in (`not_before_ms`).
  double claim(double ready_ms, double ms, double not_before_ms) {
    if (ms <= 0) return std::max(ready_ms, not_before_ms);  // no rate limit: no queue
    const double start = std::max({ready_ms, busy_until_ms, not_before_ms - ms});
    busy_until_ms = start + ms;
    return busy_until_ms;
  }
};

// The TLS session one side may resume: stored when its first full handshake completes (the
// replay client and proxycore both store it from the handshake's new-session callback), and
// offered by every connection that opens after that.
struct TlsSession {
  double stored_at_ms = kNeverMs;

  // The set-up RTTs of a connection opening at t_ms; a full handshake stores the session.
  double open(double t_ms, const Path& p) {
    if (t_ms >= stored_at_ms) return p.resumed_setup_rtts;
    stored_at_ms = std::min(stored_at_ms, t_ms + p.setup_ms());
    return p.setup_rtts;
  }
};

}  // namespace satlink::simulator::analytic_detail
