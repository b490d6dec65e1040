// The testbed of one trial without the replay client, kept up for a person: a real browser (or
// curl) goes through the emulated client link, the proxy and the server link to the synthetic
// origin. The same chain as run_trial builds (testbed.cpp), on a thread of its own, until
// stop(). `satlink-cli serve` and the GUI's live testbed use it. No Boost types here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "satlink/simulator/event_log.hpp"
#include "satlink/simulator/scenario.hpp"

namespace satlink::simulator {

struct LiveOptions {
  // Where the browser connects (the client link's listener). Anything but loopback lets
  // whoever reaches the address use the testbed; callers warn (see classify_address).
  std::string listen_address = "127.0.0.1";
  std::uint16_t listen_port = 0;  // 0 = any free port
};

enum class AddressKind : std::uint8_t { invalid, loopback, other };
// Numeric IPv4 or IPv6 only, as the link binds it: "localhost" is invalid.
AddressKind classify_address(std::string_view address);

// One part of the chain as a person would draw it: "client link 127.0.0.1:40001 (RTT 600 ms)".
struct LiveHop {
  std::string name;  // "client link", "proxy", "server link", "origin"
  std::string address;
  std::uint16_t port = 0;
  std::string detail;  // links: "RTT 600 ms, down 25 Mbit/s, up 3 Mbit/s"; else empty
};

// Counted from the event log since start.
struct LiveCounters {
  std::uint64_t client_link_connections = 0;  // browser connections accepted by the client link
  std::uint64_t proxy_client_connections = 0;
  std::uint64_t proxy_server_connections = 0;  // opened by the proxy towards the origin
  std::uint64_t proxy_server_reuses = 0;       // requests sent on an idle pooled connection
  std::uint64_t origin_connections = 0;
  std::uint64_t origin_requests = 0;
  std::uint64_t origin_open_connections = 0;  // now, from the origin's last occupancy report
  bool operator==(const LiveCounters&) const = default;
};

LiveCounters live_counters(const std::vector<LogEvent>& events);

// start() and stop() from one controlling thread; log() and counters() from any.
class LiveTestbed {
 public:
  LiveTestbed();
  ~LiveTestbed();  // stop()
  LiveTestbed(const LiveTestbed&) = delete;
  LiveTestbed& operator=(const LiveTestbed&) = delete;

  // Builds origin, server link, proxy (unless no-proxy) and client link as a trial of `mode`
  // would (the experiment's seed; a sweep is not applied: the scenario's own values are
  // served) and serves on a thread of its own. Throws std::runtime_error naming the address
  // and port that could not be bound (nothing is left running then), std::invalid_argument
  // for a bad listen address, std::logic_error when already running.
  void start(const Scenario& scenario, Mode mode, const LiveOptions& options = {});
  // Links abort, proxy stops, origin stops; returns once the thread has ended (at most a few
  // seconds). Idempotent; start() may be called again afterwards.
  void stop();
  bool running() const;

  // "http://127.0.0.1:40001/" with the page's path; https when the browser must speak TLS.
  // An unspecified listen address (0.0.0.0, ::) is shown as loopback, which reaches it.
  std::string url() const;
  std::vector<LiveHop> chain() const;  // from the browser's side to the origin
  // Every component's events since the last start() (chunk events are not logged: a live
  // testbed would grow without bound). Valid until destruction; readable from any thread.
  const EventLog& log() const;
  LiveCounters counters() const;  // live_counters(log().events())

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace satlink::simulator
