// The testbed of one trial without the replay client, kept up for a person: a real browser (or
// curl) goes through the emulated client link, the proxy and the server link to the synthetic
// origin. The same chain as run_trial builds (testbed.cpp), on a thread of its own, until
// stop(). `satlink-cli serve` and the GUI's live testbed use it. No Boost types here.
#pragma once

#include <compare>
#include <cstdint>
#include <deque>
#include <map>
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
  std::uint64_t client_link_open = 0;         // of those, not closed yet
  std::uint64_t proxy_client_connections = 0;
  std::uint64_t proxy_server_connections = 0;  // opened by the proxy towards the origin
  std::uint64_t proxy_server_reuses = 0;       // requests sent on an idle pooled connection
  std::uint64_t origin_connections = 0;
  std::uint64_t origin_requests = 0;
  std::uint64_t origin_open_connections = 0;  // now, from the origin's last occupancy report
  // The browser's requests: received by the proxy, or by the origin without one.
  std::uint64_t requests = 0;
  std::uint64_t response_bytes = 0;  // response body bytes sent towards the browser
  // TLS handshakes (attempts, as trial_metrics counts them) the browser made (with the proxy,
  // or the origin without one), and the ones towards the origin (the same without a proxy).
  std::uint64_t client_tls_handshakes = 0;
  std::uint64_t server_tls_handshakes = 0;
  bool operator==(const LiveCounters&) const = default;
};

// One request of the browser, as the first hop that parses HTTP saw it: the proxy, or the
// origin without one. The log holds no method or path (the proxy's access records are not
// logged), so a row is identified by its connection and its place on it.
struct LiveRequest {
  std::int64_t start_ns = 0;   // first byte of the request head (proxy) / head received (origin)
  std::int64_t end_ns = -1;    // last response byte sent; -1 when it never completed
  std::uint64_t connection = 0;         // the browser's connection (proxy client id / origin id)
  std::uint32_t index = 0;              // 1-based: the n-th request on that connection
  std::uint64_t server_connection = 0;  // the proxy's connection to the origin; 0 without one
  bool server_reused = false;           // that connection came from the idle pool
  int status = 0;                       // 0: no response was sent
  std::uint64_t bytes = 0;              // response body bytes
  std::string error;                    // the proxy's error kind ("bad_gateway"), empty if none

  bool reused() const { return index > 1; }  // the browser's connection had carried one before
  double duration_ms() const { return end_ns >= start_ns ? (end_ns - start_ns) / 1e6 : -1; }
};

// Counters and request rows, fed one event at a time so a long session is never rescanned.
// `proxied`: whether the chain has a proxy (it decides where the browser's requests are seen).
class LiveTally {
 public:
  explicit LiveTally(bool proxied, std::size_t keep_requests = 10000);
  void add(const LogEvent& e);
  const LiveCounters& counters() const { return counters_; }
  // Requests in the order they finished (completed, failed, or their connection closed),
  // numbered from 0; only the last `keep_requests` are kept.
  std::uint64_t finished_total() const { return finished_total_; }
  const std::deque<LiveRequest>& finished() const { return finished_; }  // the kept ones
  std::vector<LiveRequest> in_flight() const;  // started, not finished; by connection

 private:
  struct Key {
    std::uint64_t conn, request;
    auto operator<=>(const Key&) const = default;
  };
  void add_proxy(const LogEvent& e);
  void add_origin(const LogEvent& e);
  void finish(std::map<Key, LiveRequest>::iterator it, std::int64_t end_ns);
  void finish_connection(std::uint64_t conn);

  bool proxied_;
  std::size_t keep_;
  LiveCounters counters_;
  std::map<Key, LiveRequest> open_;              // in flight, by (browser connection, request)
  std::map<std::uint64_t, std::uint32_t> served_;  // requests seen per open browser connection
  std::map<std::uint64_t, Key> by_request_;      // proxy request id -> its key
  std::deque<LiveRequest> finished_;
  std::uint64_t finished_total_ = 0;
};

LiveCounters live_counters(const std::vector<LogEvent>& events);
// Every request of the log, in the order they finished, then the ones still in flight. A log
// with proxy events is read from the proxy's side.
std::vector<LiveRequest> live_requests(const std::vector<LogEvent>& events);

enum class LinkSide : std::uint8_t { client, server };

// Finished requests numbered from `first` on, and how many have finished in all.
struct LiveRequestPage {
  std::uint64_t first = 0;
  std::vector<LiveRequest> rows;
  std::uint64_t total = 0;
};

// start(), stop() and set_link() from one controlling thread; log(), counters(), requests_since()
// and link_config() from any.
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
  // seconds). Idempotent; start() may be called again afterwards. The log, counters and
  // requests stay readable until the next start().
  void stop();
  bool running() const;

  // "http://127.0.0.1:40001/" with the page's path; https when the browser must speak TLS.
  // An unspecified listen address (0.0.0.0, ::) is shown as loopback, which reaches it.
  std::string url() const;
  std::vector<LiveHop> chain() const;  // from the browser's side to the origin

  // A live change of a link's impairments (Link::set_config: bytes that arrive afterwards
  // get the new values; the link logs a config_change). The chain's detail follows. Throws
  // std::logic_error when not running, std::invalid_argument for a value the scenario loader
  // would refuse (negative delay, jitter or rate; loss outside 0..1), naming the field.
  void set_link(LinkSide side, const LinkConfig& config);
  // The values in force: the scenario's until set_link; default-constructed when not running.
  LinkConfig link_config(LinkSide side) const;

  // Every component's events since the last start() (chunk events are not logged: a live
  // testbed would grow without bound). Valid until destruction; readable from any thread.
  const EventLog& log() const;
  // Counted incrementally: each call reads only the events logged since the previous one.
  LiveCounters counters() const;
  // Finished requests numbered `seen` and later that are still kept (the last 10000).
  LiveRequestPage requests_since(std::uint64_t seen) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace satlink::simulator
