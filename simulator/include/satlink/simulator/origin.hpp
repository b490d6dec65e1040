// The synthetic origin: an HTTP/1.1 server (plain or TLS) serving one Page with configurable
// think time and keep-alive, reporting every connection's life and the origin's occupancy
// (active and idle connections, estimated memory) to the event log. No Boost types here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "satlink/simulator/event_log.hpp"
#include "satlink/simulator/page.hpp"

namespace boost::asio {
class io_context;
}

namespace satlink::simulator {

// Estimated memory a server holds per connection. See docs/origin.md for the derivations.
struct MemoryModel {
  std::string name;
  double idle_bytes = 0;    // per connection waiting for its next request
  double active_bytes = 0;  // per connection reading a request or sending a response
  std::string source;       // where the figures come from; "(unconfirmed)" where they are
};

// "nginx", "haproxy", "apache-prefork", in that order.
const std::vector<MemoryModel>& memory_models();
const MemoryModel* find_memory_model(std::string_view name);

// Keep-alive is on when enabled and timeout_ms > 0 (nginx: keepalive_timeout 0 turns it off).
struct OriginKeepAlive {
  bool enabled = true;
  double timeout_ms = 5000;        // idle wait for the next request, from the end of a response
  std::uint32_t max_requests = 0;  // per connection; 0 = unlimited
  bool operator==(const OriginKeepAlive&) const = default;
};

struct OriginKeepAlivePreset {
  std::string name;
  OriginKeepAlive keep_alive;
  std::string source;
};

// "apache" (5 s, 100 requests), "nginx" (75 s, 1000 requests), "off".
const std::vector<OriginKeepAlivePreset>& origin_keep_alive_presets();
const OriginKeepAlivePreset* find_origin_keep_alive_preset(std::string_view name);

// The origin pins one version (minimum = maximum), so a trial measures exactly one handshake.
enum class TlsVersion : std::uint8_t { v1_2, v1_3 };
std::string_view to_string(TlsVersion v);  // "1.2", "1.3"

// Why the origin closed a connection (the `b` of an OriginEvent::close).
enum class OriginCloseReason : std::uint8_t {
  peer_closed,         // the client closed (or reset) while no response was owed
  keep_alive_timeout,  // idle longer than keep_alive.timeout_ms
  max_requests,        // keep_alive.max_requests responses sent
  keep_alive_off,      // keep-alive disabled at the origin
  client_asked,        // Connection: close, or HTTP/1.0 without Connection: keep-alive
  error,               // 400/413/431 sent, TLS handshake failed, or an I/O error
  stopped,             // Origin::stop()
  request_timeout,     // no complete request head within request_timeout_ms (408 if begun)
};
std::string_view to_string(OriginCloseReason r);

struct OriginConfig {
  Page page;
  ThinkTime think;  // for the HTML and every resource without its own
  OriginKeepAlive keep_alive;
  // A request head must be complete this long after its first byte (and the first request
  // must arrive this long after accept or the TLS handshake); the TLS handshake too.
  double request_timeout_ms = 10000;
  // 0 = unlimited. At the limit the origin stops accepting: new connections wait in the
  // kernel's backlog and are accepted when one closes.
  std::uint32_t max_connections = 0;
  MemoryModel memory = memory_models().front();  // nginx
  bool tls = false;  // a self-signed certificate is generated when the origin is created
  TlsVersion tls_version = TlsVersion::v1_3;
  std::uint64_t seed = 1;  // think-time jitter: Rng(seed + connection id * golden ratio)
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = ephemeral
};

class Origin {
 public:
  // Throws std::runtime_error when the page does not validate or TLS cannot be set up.
  // `log` may be null; it must outlive the origin.
  Origin(OriginConfig config, EventLog* log);
  ~Origin();  // stops; joins the own thread
  Origin(const Origin&) = delete;
  Origin& operator=(const Origin&) = delete;

  // Binds (throws std::runtime_error naming the address on failure) and serves on the
  // caller's io_context, or on a thread of its own.
  void start_on(boost::asio::io_context& ioc);
  void start();
  // Closes the listener and every connection (close reason `stopped`). Thread-safe, idempotent.
  // With start() it returns once the thread has ended (unless called on that thread); with
  // start_on() the closing runs when the caller's io_context runs.
  void stop();

  std::uint16_t port() const;
  std::string certificate_pem() const;  // "" without TLS
  const OriginConfig& config() const;

  struct Sample {
    std::int64_t t_ns = 0;
    std::uint32_t active = 0, idle = 0;
    double memory_bytes = 0;  // idle * memory.idle_bytes + active * memory.active_bytes
  };
  // One sample at start (all zero), then one per change of the counts. A thread-safe copy.
  std::vector<Sample> occupancy() const;

  struct Counters {
    std::uint64_t accepted = 0;   // connections
    std::uint64_t requests = 0;   // request heads parsed
    std::uint64_t responses = 0;  // responses completely written (errors included)
    std::uint32_t open = 0;       // connections now
  };
  Counters counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace satlink::simulator
