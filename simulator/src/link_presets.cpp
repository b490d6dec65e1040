// The link presets of docs/link.md (figures and sources from the shared MODELS.md research).
#include "satlink/simulator/link_config.hpp"

namespace satlink::simulator {

namespace {

LinkConfig symmetric_rtt(double rtt_ms, double down_bps, double up_bps, double loss = 0) {
  LinkConfig c;
  c.up.delay_ms = c.down.delay_ms = rtt_ms / 2;
  c.down.rate_bps = down_bps;
  c.up.rate_bps = up_bps;
  c.up.loss.rate = c.down.loss.rate = loss;
  return c;
}

constexpr double kMbit = 1e6;
constexpr double kKbit = 1e3;

LinkConfig leo() {
  LinkConfig c = symmetric_rtt(45, 100 * kMbit, 15 * kMbit, 0.001);
  // Every 15 s the satellite handover: RTT rises to ~100 ms for a moment (unconfirmed figures).
  c.schedule.points = {{0, 50}, {300, 22.5}};
  c.schedule.repeat_ms = 15000;
  return c;
}

std::vector<LinkPreset> make_presets() {
  return {
      {"geo", "Geostationary satellite: 600 ms RTT, 25/3 Mbit/s, 0.1 % loss (loss unconfirmed)",
       "physics floor ~477 ms; Ookla medians 630 ms (Viasat), 724 ms (HughesNet)",
       symmetric_rtt(600, 25 * kMbit, 3 * kMbit, 0.001)},
      {"geo-measured", "Measured consumer GEO: 650 ms RTT, 19/2.5 Mbit/s, 0.1 % loss (unconfirmed)",
       "measured consumer GEO service", symmetric_rtt(650, 19 * kMbit, 2.5 * kMbit, 0.001)},
      {"meo", "Medium earth orbit (O3b): 140 ms RTT, 50/10 Mbit/s (uplink unconfirmed)",
       "O3b design target < 150 ms", symmetric_rtt(140, 50 * kMbit, 10 * kMbit)},
      {"leo",
       "Low earth orbit (Starlink): 45 ms RTT, 100/15 Mbit/s, 0.1 % loss, a 100 ms RTT spike "
       "for 300 ms every 15 s (loss and spike unconfirmed)",
       "Ookla Starlink p10/p50/p90 RTT 72/47/37 ms; 15 s reconfiguration interval", leo()},
      {"wpt-3g", "WebPageTest 3G: 300 ms RTT, 1.6 Mbit/s down, 768 kbit/s up",
       "WebPageTest connectivity profiles", symmetric_rtt(300, 1.6 * kMbit, 768 * kKbit)},
      {"wpt-cable", "WebPageTest Cable: 28 ms RTT, 5 Mbit/s down, 1 Mbit/s up",
       "WebPageTest connectivity profiles", symmetric_rtt(28, 5 * kMbit, 1 * kMbit)},
      {"wpt-dsl", "WebPageTest DSL: 50 ms RTT, 1.5 Mbit/s down, 384 kbit/s up",
       "WebPageTest connectivity profiles", symmetric_rtt(50, 1.5 * kMbit, 384 * kKbit)},
      {"wpt-lte", "WebPageTest LTE: 70 ms RTT, 12 Mbit/s both ways",
       "WebPageTest connectivity profiles", symmetric_rtt(70, 12 * kMbit, 12 * kMbit)},
      {"lighthouse-slow4g", "Lighthouse mobile throttling: 150 ms RTT, 1.6 Mbit/s / 750 kbit/s",
       "Lighthouse default mobile throttling", symmetric_rtt(150, 1.6 * kMbit, 750 * kKbit)},
      {"devtools-slow3g", "Chrome DevTools Slow 3G: 400 ms RTT, 400 kbit/s both ways",
       "Chrome DevTools network throttling preset", symmetric_rtt(400, 400 * kKbit, 400 * kKbit)},
      {"lan", "Proxy and origin on one LAN: 0.5 ms RTT, 1 Gbit/s",
       "about one millisecond per handshake (Server Fault thread)",
       symmetric_rtt(0.5, 1000 * kMbit, 1000 * kMbit)},
  };
}

}  // namespace

const std::vector<LinkPreset>& link_presets() {
  static const std::vector<LinkPreset> presets = make_presets();
  return presets;
}

const LinkPreset* find_link_preset(std::string_view id) {
  for (const auto& p : link_presets())
    if (p.id == id) return &p;
  return nullptr;
}

std::string_view to_string(SetupModel m) {
  switch (m) {
    case SetupModel::tcp: return "tcp";
    case SetupModel::seed: return "seed";
    case SetupModel::none: return "none";
  }
  return "?";
}

bool parse(std::string_view s, SetupModel& out) {
  for (auto m : {SetupModel::tcp, SetupModel::seed, SetupModel::none})
    if (s == to_string(m)) return out = m, true;
  return false;
}

std::string_view to_string(Retransmit r) {
  return r == Retransmit::fast ? "fast" : "rto";
}

bool parse(std::string_view s, Retransmit& out) {
  for (auto r : {Retransmit::fast, Retransmit::rto})
    if (s == to_string(r)) return out = r, true;
  return false;
}

}  // namespace satlink::simulator
