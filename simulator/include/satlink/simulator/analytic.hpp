// The analytic prediction of a page load (MODELS.md, "Analytic model"; docs/analytic.md): what
// HTTP/1.1 without pipelining should take over the emulated links, computed from the scenario
// alone. Pure functions: no sockets, no clock, no Qt. The runner draws it next to the measurement.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace satlink::simulator {

// `seed`: the Server Fault thread's set-up, 3 one-way delays before the request (h_tcp = 1.5).
// `tcp`: SYN and SYN-ACK, the request rides the ACK (h_tcp = 1). Both match the link's set-up
// models of the same names (docs/link.md); everything else is the same in both.
enum class PredictionModel : std::uint8_t { seed, tcp };

struct PredictionInput {
  double client_rtt_ms = 0;                       // client link RTT (uplink + downlink delay)
  double client_down_bps = 0, client_up_bps = 0;  // 0 = unlimited
  // false: the no-proxy baseline. The browser reaches the origin through both links in series,
  // so its RTT is client_rtt + server_rtt, every set-up crosses both and the bottleneck is the
  // slower downlink; client_tls_rtts is the TLS the browser negotiates (with the origin).
  bool proxy = true;
  double server_rtt_ms = 0;  // proxy <-> origin link RTT
  double server_down_bps = 0;
  bool client_keep_alive = true;  // browser <-> proxy connections are reused
  bool server_keep_alive = true;  // proxy <-> origin connections are reused when one is idle
  // false: HAProxy `http-reuse safe`, a request that is the first on its client connection never
  // takes an idle server connection. true: nginx, HAProxy `http-reuse always`.
  bool server_reuse_across_clients = false;
  std::uint32_t connections = 6;  // per host, the browser's limit (0 is taken as 1)
  // Browsers loading the page together (0 is taken as 1). Each has its own connections, its own
  // HTML-then-resources schedule and its own TLS session; they share both links' bottlenecks
  // and the proxy's server pool and server-side TLS session.
  std::uint32_t users = 1;
  // Extra RTTs of a full TLS handshake per new connection: 0 none, 1 TLS 1.3, 2 TLS 1.2.
  int client_tls_rtts = 0;
  int server_tls_rtts = 0;
  // Extra RTTs of a resumed handshake (TLS 1.2 and 1.3: 1); -1: no resumption, every new
  // connection pays the full handshake. A connection resumes when a session was stored before
  // it opened: the client side keeps one per user, the proxy one for the origin, each stored
  // when that side's first full handshake completes.
  int client_tls_resumed_rtts = -1;
  int server_tls_resumed_rtts = -1;
  // Slow start on both links (as each link's `slow_start` block): IW in segments of mss bytes.
  bool slow_start = false;
  std::uint32_t initial_window = 10;
  std::uint32_t mss = 1460;
  bool restart_after_idle = true;
  std::uint64_t html_bytes = 0;
  std::vector<std::uint64_t> resource_bytes;  // in the order the browser requests them
  std::uint64_t request_bytes = 0;            // one request on the uplink; 0 = negligible
  double think_ms = 0;                        // the origin's time per request
};

// With several users, per-user times are averaged over them, as the measured metrics are.
struct Prediction {
  double page_load_ms = 0;      // from the first request to the last byte of the last resource
  double page_load_max_ms = 0;  // the slowest user's page load (= page_load_ms with one user)
  double html_ms = 0;           // to the HTML's last byte
  std::uint32_t client_connections = 0, server_connections = 0;  // opened, by all users
  // Set-up time paid, summed over the connections opened (TLS included). Without a proxy each
  // connection's set-up crosses both links: the client link's share is counted as client, the
  // server link's as server, so the two add up to the whole.
  double client_setup_ms = 0, server_setup_ms = 0;
};

// An event-driven replay of the page over the browser's connections and the proxy's pool
// (docs/analytic.md gives the rules and what is approximated).
Prediction predict(const PredictionInput& in, PredictionModel model);

// h_tcp: the RTTs a new connection costs before its request may leave (1.5 or 1).
double handshake_rtts(PredictionModel model);

std::string_view to_string(PredictionModel model);
bool parse(std::string_view s, PredictionModel& out);

// Rounds of slow start to deliver `bytes` on a fresh connection (window IW·mss, doubling when
// used fully): ceil(log2(bytes / (IW·mss) + 1)), computed exactly in integers. 0 bytes -> 1: a
// response, even an empty one, sends its headers in one round.
std::uint32_t slow_start_rounds(std::uint64_t bytes, std::uint32_t initial_window,
                                std::uint32_t mss);

}  // namespace satlink::simulator
