// Types only: the model of one network path, per direction. See docs/link.md for what each
// parameter does to the bytes and where the figures of the presets come from.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "satlink/simulator/random.hpp"

namespace satlink::simulator {

// Loss as TCP experiences it: a lost segment is retransmitted, so it delays itself and every
// byte behind it on its connection. Bursts follow a Gilbert-Elliott chain when burst_enter > 0.
struct Loss {
  double rate = 0;          // probability that a segment is lost (in the good state)
  double burst_enter = 0;   // per segment: good -> bad
  double burst_exit = 0.5;  // per segment: bad -> good (mean burst length 1 / burst_exit)
  double burst_rate = 1.0;  // probability that a segment is lost in the bad state
  bool operator==(const Loss&) const = default;
};

struct Direction {
  double delay_ms = 0;            // one-way propagation delay
  Jitter jitter;                  // added per chunk; never reorders a connection's bytes
  double rate_bps = 0;            // bottleneck shared by the link's connections; 0 = unlimited
  std::uint64_t queue_bytes = 0;  // bottleneck queue limit (backpressure); 0 = unlimited
  Loss loss;
  bool operator==(const Direction&) const = default;
};

// What a new connection pays before its first client byte crosses the link.
enum class SetupModel : std::uint8_t {
  tcp,   // SYN + SYN-ACK: held 1 RTT, then the one-way delay (first byte at 1.5 RTT)
  seed,  // the Server Fault thread: 3 one-way delays, then the request's own (at 4 one-way)
  none,  // free (what the handshake alone costs, by difference)
};

enum class Retransmit : std::uint8_t {
  fast,  // fast retransmit: one RTT
  rto,   // a retransmission timeout: max(200 ms, 2 RTT)
};

struct SlowStart {
  bool enabled = false;
  std::uint32_t initial_window = 10;  // segments (RFC 6928)
  bool restart_after_idle = true;     // as Linux's tcp_slow_start_after_idle = 1
  bool operator==(const SlowStart&) const = default;
};

// A live change of the one-way delay (both directions) over time since the link started.
struct DelayPoint {
  double t_ms = 0;
  double delay_ms = 0;
  bool operator==(const DelayPoint&) const = default;
};

struct DelaySchedule {
  std::vector<DelayPoint> points;  // step function; before the first point the base delays hold
  double repeat_ms = 0;            // > 0: the points repeat with this period (LEO spikes)
  bool operator==(const DelaySchedule&) const = default;
};

struct LinkConfig {
  Direction up;    // client -> target (uplink)
  Direction down;  // target -> client (downlink)
  SetupModel setup = SetupModel::tcp;
  SlowStart slow_start;
  Retransmit retransmit = Retransmit::fast;
  std::uint32_t mss = 1460;
  // Most bytes one connection has in flight per direction (read, not yet delivered): the
  // receive window. Bounds memory when the receiver is slow.
  std::uint64_t window_bytes = 4u << 20;
  DelaySchedule schedule;
  std::uint64_t seed = 1;
  bool operator==(const LinkConfig&) const = default;

  double rtt_ms() const { return up.delay_ms + down.delay_ms; }
};

std::string_view to_string(SetupModel m);
bool parse(std::string_view s, SetupModel& out);
std::string_view to_string(Retransmit r);
bool parse(std::string_view s, Retransmit& out);

// Named starting points (docs/link.md has the table with sources).
struct LinkPreset {
  std::string_view id;
  std::string_view description;  // one line
  std::string_view source;
  LinkConfig config;
};

const std::vector<LinkPreset>& link_presets();
const LinkPreset* find_link_preset(std::string_view id);  // null if unknown

}  // namespace satlink::simulator
