// The one event log of a testbed: every component (links, proxy, origin, replay client) appends
// timestamped events here; metrics are computed from it and from nothing else.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <condition_variable>
#include <deque>
#include <string_view>
#include <vector>

#include "satlink/proxycore/events.hpp"

namespace satlink::simulator {

// Steady clock in nanoseconds: the time base of every event (the proxy core uses the same).
std::int64_t now_ns();

enum class Component : std::uint8_t { client, client_link, proxy, server_link, origin };

// Link events. dir: 0 = uplink (client to target), 1 = downlink (target to client).
enum class LinkEvent : std::uint8_t {
  accept,          // a connection arrived at the link; a = its local port at the far side (0),
                   // b = the accepted peer's port (the client's local port: joins the client
                   // link's connection to the replay's connect_end b)
  setup_start,     // the emulated handshake starts (t = accept time)
  setup_end,       // client-to-target bytes may leave from now on (t = the release time);
                   // setup_end - accept is what a browser would spend in connect (docs/metrics.md)
  target_connect,  // the onward connection is opened (when the SYN would arrive); a = 0 ok, else errno-like code
  chunk_in,        // bytes read from the sender: a = bytes, b = planned release (ns), c = bottleneck queue bytes
  chunk_out,       // bytes written to the receiver: a = bytes, b = planned release (ns), c = its arrival (ns)
  loss,            // a = segments lost in one loss event, b = retransmission delay (ns)
  fin,             // half-close delivered (t = delivery)
  reset,           // reset delivered
  close,           // both directions done; a = bytes up, b = bytes down
  config_change,   // parameters changed live; a = uplink delay (us), b = downlink delay (us)
};

// Origin events.
enum class OriginEvent : std::uint8_t {
  accept,               // a = open connections now
  tls_handshake_start,
  tls_handshake_end,    // a = 1 resumed, 0 full, -1 failed
  request,              // request head received; request = 1-based index on the connection
  response_start,       // after think time: response head about to be written; a = status
  response_end,         // a = body bytes
  idle,                 // waiting for the next request (keep-alive)
  close,                // a = requests served; b = reason (OriginCloseReason)
  occupancy,            // a = active connections, b = idle connections, c = estimated memory bytes
};

// Replay client (browser) events. conn = client connection id, request = request id (both
// unique within one replay); ids start at 1.
enum class ClientEvent : std::uint8_t {
  page_start,      // a user starts loading the page; a = user (0-based)
  page_end,        // the last byte of the last resource (or the failure); a = user, b = 1 ok, 0 failed
  request_queued,  // the browser wants a URL (the page at page_start, resources when the HTML
                   // is parsed); a = resource index (0 = the page, i = i-th URL of the HTML), b = user
  connect_start,   // a = user, request = the request that needs the connection
  connect_end,     // after the TLS handshake when there is one; a = 0 ok, else an error code;
                   // b = the socket's local port once TCP connected, else 0 (the client link's
                   // accept b names the same port)
  tls_start,
  tls_end,         // a = 1 resumed, 0 full, -1 failed; b = TLS version (0x0303, 0x0304)
  request_start,   // first request byte written; a = 1 on a reused connection, else 0
  request_sent,    // last request byte written
  response_start,  // first response byte read
  response_end,    // last byte read; a = status, b = body bytes, c = 1 checksum ok, 0 wrong,
                   // -1 no checksum header to verify
  error,           // the request failed; a = ClientError; conn = 0 if it never had a connection
  close,           // the connection closed; a = requests it carried
};

// Why a replayed request failed.
enum class ClientError : std::uint8_t {
  none,
  connect_failed,
  tls_failed,
  io_error,         // reset or EOF mid-response
  bad_response,     // unparseable HTTP
  wrong_body,       // size or checksum differs from the origin's X-Satlink-Checksum
  http_status,      // status >= 400
  timeout,
  cancelled,
};

struct LogEvent {
  std::int64_t t_ns = 0;
  Component component{};
  std::uint8_t kind = 0;  // LinkEvent, OriginEvent, ClientEvent or proxycore::EventKind
  std::uint8_t dir = 0;   // link direction, or proxycore::Side for the proxy
  std::uint64_t conn = 0;
  std::uint64_t request = 0;
  std::int64_t a = 0, b = 0, c = 0;

  bool is(LinkEvent k) const {
    return (component == Component::client_link || component == Component::server_link) &&
           kind == static_cast<std::uint8_t>(k);
  }
  bool is(OriginEvent k) const {
    return component == Component::origin && kind == static_cast<std::uint8_t>(k);
  }
  bool is(ClientEvent k) const {
    return component == Component::client && kind == static_cast<std::uint8_t>(k);
  }
  bool is(proxycore::EventKind k) const {
    return component == Component::proxy && kind == static_cast<std::uint8_t>(k);
  }
};

// One event, for the components' own emit helpers (kind: LinkEvent, OriginEvent, ClientEvent).
template <class Kind>
LogEvent make_event(Component component, Kind kind, std::int64_t t_ns, std::uint64_t conn,
                    std::uint64_t request = 0, std::int64_t a = 0, std::int64_t b = 0,
                    std::int64_t c = 0, std::uint8_t dir = 0) {
  LogEvent e;
  e.t_ns = t_ns;
  e.component = component;
  e.kind = static_cast<std::uint8_t>(kind);
  e.dir = dir;
  e.conn = conn;
  e.request = request;
  e.a = a;
  e.b = b;
  e.c = c;
  return e;
}

std::string_view to_string(Component c);
std::string_view to_string(LinkEvent k);
std::string_view to_string(OriginEvent k);
std::string_view to_string(ClientEvent k);
std::string_view to_string(ClientError k);
std::string_view kind_name(const LogEvent& e);  // the kind's name for its component

// Events in blocks: appending never moves what is already logged (a vector that doubles would
// copy the whole log under the lock and stall every component for milliseconds).
using EventList = std::deque<LogEvent>;

// Thread-safe, append-only. Components hold a pointer; a null log costs one branch.
class EventLog {
 public:
  void add(const LogEvent& e);
  std::vector<LogEvent> events() const;  // a copy, in the order of arrival
  std::size_t size() const;
  void clear();
  // Blocks until pred holds on the events (checked at each add) or the timeout passes.
  bool wait_for(const std::function<bool(const EventList&)>& pred,
                std::chrono::milliseconds timeout) const;
  // An adapter the proxy core reports through: its events land here as Component::proxy.
  std::unique_ptr<proxycore::EventSink> proxy_sink();

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  EventList events_;
};

}  // namespace satlink::simulator
