// The testbed without its browser: origin <- server link <- proxy (unless no-proxy) <- client
// link, on one io_context. run_trial puts the replay client in front of it, LiveTestbed a
// person's browser; both build and tear it down here, so the two cannot drift apart.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "satlink/proxycore/proxy.hpp"
#include "satlink/simulator/event_log.hpp"
#include "satlink/simulator/link.hpp"
#include "satlink/simulator/origin.hpp"
#include "satlink/simulator/plan.hpp"

namespace boost::asio {
class io_context;
}

namespace satlink::simulator {

struct ChainOptions {
  // Where the client link (the browser's entry) listens; every other part listens on an
  // ephemeral 127.0.0.1 port.
  std::string listen_address = "127.0.0.1";
  std::uint16_t listen_port = 0;
  // chunk events cost an entry per relayed piece: a trial needs them for its byte metrics,
  // a testbed that serves a browser for hours would grow without bound.
  bool log_chunks = true;
};

struct Chain {
  explicit Chain(EventLog& event_log) : log(event_log) {}

  EventLog& log;
  std::unique_ptr<proxycore::EventSink> proxy_sink = log.proxy_sink();
  // Built in this order and destroyed in reverse: each part's target outlives it.
  std::optional<Origin> origin;
  std::optional<Link> server_link;
  std::optional<proxycore::Proxy> proxy;
  std::optional<Link> client_link;
  bool tls = false;  // whether the browser speaks HTTPS to the client link

  // Binds every part on `ioc`. On failure everything built is torn down (by running `ioc`,
  // which must not be running on another thread) before the exception propagates.
  void build(boost::asio::io_context& ioc, const Trial& t, const ChainOptions& options);
  // Links abort, proxy stops, origin stops; the closing runs on the io_context.
  void stop_all();
  std::uint16_t port() const;  // the client link's
};

}  // namespace satlink::simulator
