#include "link_model.hpp"

#include <algorithm>
#include <cmath>

namespace satlink::simulator {

std::uint64_t DirectionParams::piece_bytes() const {
  if (rate_bps <= 0) return std::numeric_limits<std::uint64_t>::max();
  return std::max<std::uint64_t>(mss, static_cast<std::uint64_t>(rate_bps / 8 / 1000));
}

std::int64_t DirectionParams::serialization_ns(std::uint64_t bytes) const {
  if (rate_bps <= 0) return 0;
  return static_cast<std::int64_t>(std::llround(static_cast<double>(bytes) * 8e9 / rate_bps));
}

double delay_at_ms(const LinkConfig& c, const Direction& d, double t_ms) {
  const auto& points = c.schedule.points;
  if (points.empty()) return d.delay_ms;
  const double t = c.schedule.repeat_ms > 0 ? std::fmod(std::max(t_ms, 0.0), c.schedule.repeat_ms)
                                            : t_ms;
  double delay = d.delay_ms;
  for (const auto& point : points) {
    if (point.t_ms > t) break;
    delay = point.delay_ms;
  }
  return delay;
}

DirectionParams direction_params(const LinkConfig& c, bool up, double t_ms) {
  const Direction& d = up ? c.up : c.down;
  DirectionParams p;
  p.delay_ns = ms_to_ns(delay_at_ms(c, d, t_ms));
  p.rtt_ns = ms_to_ns(delay_at_ms(c, c.up, t_ms) + delay_at_ms(c, c.down, t_ms));
  p.jitter = d.jitter;
  p.rate_bps = d.rate_bps;
  p.queue_bytes = d.queue_bytes;
  p.loss = d.loss;
  p.retransmit = c.retransmit;
  p.slow_start = c.slow_start;
  p.mss = std::max<std::uint32_t>(c.mss, 1);
  return p;
}

std::uint64_t Bottleneck::queued_bytes(std::int64_t now, double rate_bps) const {
  if (rate_bps <= 0 || busy_until_ns <= now) return 0;
  return static_cast<std::uint64_t>(static_cast<double>(busy_until_ns - now) * rate_bps / 8e9);
}

std::int64_t Bottleneck::admit_at(std::int64_t now, const DirectionParams& p) const {
  if (p.rate_bps <= 0 || p.queue_bytes == 0) return now;
  const std::int64_t limit_ns = p.serialization_ns(p.queue_bytes);
  return std::max(now, busy_until_ns - limit_ns);
}

std::uint64_t Window::take(std::int64_t& t, std::uint64_t want, const DirectionParams& p) {
  const std::uint64_t iw = std::uint64_t{p.slow_start.initial_window} * p.mss;
  const std::uint64_t max_cwnd =
      p.rate_bps > 0 ? std::max<std::uint64_t>(iw, static_cast<std::uint64_t>(
                                                       p.rate_bps * static_cast<double>(p.rtt_ns) / 8e9))
                     : std::numeric_limits<std::uint64_t>::max();
  auto new_round = [&](bool restart) {
    cwnd = restart ? iw : std::min(cwnd + sent_in_round, std::max(cwnd, max_cwnd));
    round_start_ns = t;
    sent_in_round = 0;
    ++rounds;
  };
  if (cwnd != 0) t = std::max(t, last_send_ns);  // a sender sends its bytes in order
  if (cwnd == 0 || (p.slow_start.restart_after_idle && t - last_send_ns > p.rto_ns())) {
    new_round(true);
  } else if (t >= round_start_ns + p.rtt_ns) {
    new_round(false);
  }
  if (sent_in_round >= cwnd) {  // the window is full: the next round starts when ACKs return
    t = round_start_ns + p.rtt_ns;
    new_round(false);
  }
  const std::uint64_t n = std::min(want, cwnd - sent_in_round);
  sent_in_round += n;
  last_send_ns = t;
  return n;
}

namespace {

// Segment by segment. The losses of one piece (bytes that leave together) are recovered
// together, as SACK recovery does within one window: one retransmission delay per piece.
LossEvent draw_losses(std::uint64_t bytes, const DirectionParams& p, Flow& flow) {
  LossEvent out;
  const Loss& loss = p.loss;
  if (loss.rate <= 0 && loss.burst_enter <= 0) return out;
  const std::uint64_t segments = (bytes + p.mss - 1) / p.mss;
  for (std::uint64_t i = 0; i < segments; ++i) {
    bool lost;
    if (flow.in_burst) {
      lost = flow.rng.uniform01() < loss.burst_rate;
      if (flow.rng.uniform01() < loss.burst_exit) flow.in_burst = false;
    } else {
      lost = flow.rng.uniform01() < loss.rate;
      if (loss.burst_enter > 0 && flow.rng.uniform01() < loss.burst_enter) flow.in_burst = true;
    }
    if (lost) ++out.segments;
  }
  if (out.segments > 0) out.delay_ns = p.retransmit_ns();
  return out;
}

std::int64_t propagate(std::int64_t depart, const DirectionParams& p, Flow& flow) {
  const std::int64_t jitter = ms_to_ns(sample_ms(p.jitter, flow.rng));
  return depart + std::max<std::int64_t>(0, p.delay_ns + jitter);
}

}  // namespace

Plan plan_chunk(std::int64_t arrival, std::uint64_t bytes, const DirectionParams& p,
                Bottleneck& bottleneck, Flow& flow) {
  Plan plan;
  plan.queued_bytes = bottleneck.queued_bytes(arrival, p.rate_bps);
  std::int64_t t = std::max(arrival, flow.hold_until_ns);
  const std::uint64_t piece = p.piece_bytes();
  for (std::uint64_t left = bytes; left > 0;) {
    std::uint64_t n = std::min(left, piece);
    if (p.slow_start.enabled) n = flow.window.take(t, n, p);
    std::int64_t depart = t;
    if (p.rate_bps > 0) {
      depart = std::max(t, bottleneck.busy_until_ns) + p.serialization_ns(n);
      bottleneck.busy_until_ns = depart;
    }
    std::int64_t release = propagate(depart, p, flow);
    const LossEvent loss = draw_losses(n, p, flow);
    if (loss.segments > 0) {
      release += loss.delay_ns;
      plan.losses.push_back(loss);
    }
    release = std::max(release, flow.last_release_ns);
    flow.last_release_ns = release;
    if (!plan.pieces.empty() && plan.pieces.back().release_ns == release) {
      plan.pieces.back().bytes += n;
    } else {
      plan.pieces.push_back({n, release});
    }
    left -= n;
  }
  return plan;
}

std::int64_t plan_marker(std::int64_t arrival, const DirectionParams& p, Flow& flow) {
  const std::int64_t t = std::max(arrival, flow.hold_until_ns);
  const std::int64_t release = std::max(t + p.delay_ns, flow.last_release_ns);
  flow.last_release_ns = release;
  return release;
}

std::int64_t setup_release_ns(std::int64_t accept_ns, const LinkConfig& c, double t_ms) {
  const std::int64_t up = ms_to_ns(delay_at_ms(c, c.up, t_ms));
  const std::int64_t down = ms_to_ns(delay_at_ms(c, c.down, t_ms));
  switch (c.setup) {
    case SetupModel::tcp: return accept_ns + up + down;       // SYN, SYN-ACK
    case SetupModel::seed: return accept_ns + 2 * up + down;  // SYN, SYN-ACK, ACK
    case SetupModel::none: return accept_ns;
  }
  return accept_ns;
}

std::int64_t target_connect_ns(std::int64_t accept_ns, const LinkConfig& c, double t_ms) {
  if (c.setup == SetupModel::none) return accept_ns;
  return accept_ns + ms_to_ns(delay_at_ms(c, c.up, t_ms));
}

}  // namespace satlink::simulator
