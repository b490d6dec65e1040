// The page-load replay client: a browser's HTTP/1.1 stack. Per user it loads the page, parses
// the HTML for what a browser fetches, and fetches it over at most `connections_per_host`
// connections (keep-alive, HTTP/1.0, pipelining, TLS with resumption), verifying every body
// against the origin's checksum and reporting each step to the event log. See docs/replay.md.
// No Boost types here.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "satlink/simulator/event_log.hpp"

namespace boost::asio {
class io_context;
}

namespace satlink::simulator {

enum class HttpVersion : std::uint8_t { http10, http11 };

struct ReplayOptions {
  std::string host = "127.0.0.1";  // numeric address to connect to (client link, proxy or origin)
  std::uint16_t port = 0;
  std::string host_header = "localhost";  // Host header value (also the TLS SNI unless numeric)
  std::string page_path = "/";
  std::uint32_t connections_per_host = 6;  // 1..64
  // false: every request carries Connection: close, one connection per request.
  bool keep_alive = true;
  // 1.0 keeps a connection only with Connection: keep-alive (sent when keep_alive).
  HttpVersion http_version = HttpVersion::http11;
  // Requests in flight per connection, 1..64 (1 = none; > 1 = HTTP/1.1 pipelining, RFC 9112
  // 9.3.2). Only with HTTP/1.1 and keep_alive; otherwise 1.
  std::uint32_t pipelining = 1;
  std::uint32_t users = 1;  // 1..10000 simultaneous users, each a browser with its own connections
  bool tls = false;
  int tls_version = 0;         // 0 = 1.2 or 1.3, 12, 13
  bool tls_resume = true;      // a user's later connections resume its first session
  double timeout_ms = 120000;  // a whole page load (every user's)
  // After its page_end a user keeps its idle keep-alive connections open this long, or until
  // the server closes them, as a browser does (what the origin's idle memory costs); 0 = close
  // them at once. `done` comes after the hold.
  double idle_hold_ms = 0;
};

// What a request id of the event log stands for (a HAR entry's request.url).
struct ReplayRequest {
  std::uint64_t id = 0;  // the `request` of ClientEvent events
  std::uint32_t user = 0;
  std::uint32_t index = 0;  // 0 = the page, i = the i-th URL of the HTML
  std::string target;       // the origin-form target sent ("/app.js")
};

struct ReplayResult {
  std::uint32_t users_ok = 0, users_failed = 0;
  std::string first_error;              // empty when every user's load succeeded
  std::vector<ReplayRequest> requests;  // every request queued, in id order
};

struct ReplayState;  // private

class Replay {
 public:
  // Throws std::invalid_argument on bad options (the message names the option). `log` may be
  // null; it must outlive the replay's coroutines.
  Replay(ReplayOptions options, EventLog* log);
  ~Replay();  // cancels what still runs; the coroutines finish on their io_context
  Replay(const Replay&) = delete;
  Replay& operator=(const Replay&) = delete;

  // Starts every user's page load at once on the caller's io_context (all of this replay's
  // handlers run on one strand, so the io_context may have several threads). `done` runs on
  // that io_context once every user finished, failed or was cancelled, and every connection
  // closed. Once per Replay (std::logic_error otherwise).
  void start_on(boost::asio::io_context& ioc, std::function<void(const ReplayResult&)> done);
  // Thread-safe, idempotent: every user ends promptly (error `cancelled`), sockets closed.
  // Before start, the load is cancelled as soon as it starts.
  void cancel();
  // Runs on an io_context of its own on the calling thread until done.
  ReplayResult run();

  const ReplayOptions& options() const;

 private:
  std::shared_ptr<ReplayState> state_;
};

}  // namespace satlink::simulator
