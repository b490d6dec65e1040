// The timing model of one link direction, without sockets: given when bytes arrive, it says when
// each piece of them may be delivered. Times are nanoseconds on any clock the caller chooses, so
// the model is tested on made-up times and the relay feeds it the steady clock.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "satlink/simulator/link_config.hpp"
#include "satlink/simulator/random.hpp"

namespace satlink::simulator {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMinRtoNs = 200'000'000;

inline std::int64_t ms_to_ns(double ms) { return static_cast<std::int64_t>(ms * 1e6); }

// The parameters of one direction at one moment (a schedule may change the delay over time).
struct DirectionParams {
  std::int64_t delay_ns = 0;
  std::int64_t rtt_ns = 0;  // of the whole link (both directions)
  Jitter jitter;
  double rate_bps = 0;
  std::uint64_t queue_bytes = 0;
  Loss loss;
  Retransmit retransmit = Retransmit::fast;
  SlowStart slow_start;
  std::uint32_t mss = 1460;

  std::int64_t rto_ns() const { return std::max(kMinRtoNs, 2 * rtt_ns); }
  std::int64_t retransmit_ns() const {
    return retransmit == Retransmit::fast ? rtt_ns : rto_ns();
  }
  // Pieces are at most this big, so the bottleneck delivers them close to packet by packet
  // without a write per segment: one MSS, or 1 ms of the rate when that is more.
  std::uint64_t piece_bytes() const;
  std::int64_t serialization_ns(std::uint64_t bytes) const;
};

// One-way delay of a direction at time `t_ns` since the link started, schedule applied.
double delay_at_ms(const LinkConfig& c, const Direction& d, double t_ms);
DirectionParams direction_params(const LinkConfig& c, bool up, double t_ms);

// The bottleneck of one direction, shared by every connection of the link: a FIFO that sends at
// `rate_bps`. busy_until is when its last queued byte will have left.
struct Bottleneck {
  std::int64_t busy_until_ns = 0;
  std::uint64_t queued_bytes(std::int64_t now_ns, double rate_bps) const;
  // When a sender may put more bytes in without exceeding the queue limit (now if it may).
  std::int64_t admit_at(std::int64_t now_ns, const DirectionParams& p) const;
};

// A TCP sender's congestion window in slow start (no loss reaction: see docs/link.md).
struct Window {
  std::uint64_t cwnd = 0;  // bytes; 0 = not started
  std::int64_t round_start_ns = 0;
  std::uint64_t sent_in_round = 0;
  std::int64_t last_send_ns = 0;
  std::uint32_t rounds = 0;  // rounds started so far (for tests and events)
  // Bytes (<= want) the window lets leave at t; moves t to the next round when it is full.
  std::uint64_t take(std::int64_t& t_ns, std::uint64_t want, const DirectionParams& p);
};

// One connection's state in one direction.
struct Flow {
  explicit Flow(std::uint64_t seed) : rng(seed) {}
  std::int64_t hold_until_ns = 0;  // set-up: nothing leaves before this
  std::int64_t last_release_ns = 0;
  Window window;
  bool in_burst = false;  // Gilbert-Elliott state
  Rng rng;
};

struct Piece {
  std::uint64_t bytes = 0;
  std::int64_t release_ns = 0;
};

struct LossEvent {
  std::uint32_t segments = 0;
  std::int64_t delay_ns = 0;
};

struct Plan {
  std::vector<Piece> pieces;
  std::vector<LossEvent> losses;
  std::uint64_t queued_bytes = 0;  // in the bottleneck when the bytes arrived
};

// Plans `bytes` that arrived at `arrival_ns`: set-up hold, slow start, shared bottleneck,
// propagation + jitter, loss as retransmission delay, and never before an earlier piece.
Plan plan_chunk(std::int64_t arrival_ns, std::uint64_t bytes, const DirectionParams& p,
                Bottleneck& bottleneck, Flow& flow);

// A zero-byte marker (FIN, reset) keeps its place behind the data: propagation only.
std::int64_t plan_marker(std::int64_t arrival_ns, const DirectionParams& p, Flow& flow);

// When the first client byte of a connection accepted at `accept_ns` may leave (set-up model).
std::int64_t setup_release_ns(std::int64_t accept_ns, const LinkConfig& c, double t_ms);
// When the onward connection is opened: when the SYN would arrive at the far end.
std::int64_t target_connect_ns(std::int64_t accept_ns, const LinkConfig& c, double t_ms);

}  // namespace satlink::simulator
