// A link: a TCP relay that stands for one network path. It listens on a local port; for each
// accepted connection it opens one to its target and moves bytes both ways through the link
// model (set-up cost, delay, jitter, shared rate, queue, loss, slow start). See docs/link.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "satlink/simulator/event_log.hpp"
#include "satlink/simulator/link_config.hpp"

namespace boost::asio {
class io_context;
}

namespace satlink::simulator {

struct LinkOptions {
  LinkConfig config;
  std::string target_address = "127.0.0.1";  // numeric address of the far end
  std::uint16_t target_port = 0;
  std::string listen_address = "127.0.0.1";
  std::uint16_t listen_port = 0;  // 0 = any free port
  Component component = Component::client_link;  // how its events are labelled
  bool log_chunks = true;  // chunk_in / chunk_out events (metrics of bytes and delivery error)
};

enum class LinkClose : std::uint8_t {
  drain,  // stop accepting and reading; deliver what is in flight, then FIN both ways
  abort,  // reset every connection now
};

struct LinkState;  // the running link (private)

class Link {
 public:
  // Throws std::invalid_argument for a bad address. `log` may be null; it must outlive the link.
  Link(LinkOptions options, EventLog* log = nullptr);
  ~Link();  // aborts what is left and joins its own thread, if any
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Binds (throws std::runtime_error on failure) and serves on the caller's io_context; the
  // link's handlers run on a strand, so the io_context may have several threads.
  void start_on(boost::asio::io_context& ioc);
  // Binds and serves on a thread of its own.
  void start();

  std::uint16_t port() const;

  // Live change, from any thread: applies to bytes that arrive after the call.
  void set_config(const LinkConfig& config);
  LinkConfig config() const;

  // From any thread; returns at once. Connections finish on the io_context.
  void close(LinkClose mode = LinkClose::drain);
  // Blocks until every connection has ended after close() (own-thread links only... or any link
  // whose io_context is being run by another thread).
  void wait_closed();

  std::size_t open_connections() const;

 private:
  std::shared_ptr<LinkState> impl_;
};

}  // namespace satlink::simulator
