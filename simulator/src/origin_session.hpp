// Private to the origin: the state its listener and connections share (origin.cpp), a
// connection's stream, and the connection coroutine (origin_session.cpp).
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "satlink/simulator/origin.hpp"

namespace satlink::simulator::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using Nanos = std::chrono::nanoseconds;

// Bounds on what a client can make the origin hold.
inline constexpr std::size_t kMaxHeadBytes = 16 * 1024;        // 431 beyond
inline constexpr std::uint64_t kMaxRequestBody = 1024 * 1024;  // discarded; 413 beyond

Nanos from_ms(double ms);

// What a request target is answered with.
struct Route {
  std::string path;  // for fill_body
  std::string content_type;
  std::uint64_t size = 0;
  const std::string* bytes = nullptr;  // the HTML; null for resources (fill_body)
  ThinkTime think;
  std::uint64_t checksum = 0;
};

enum class ConnState : std::uint8_t { closed, active, idle };

// Lives as long as any coroutine of the origin: the co_spawn completion handlers hold it.
struct Core : std::enable_shared_from_this<Core> {
  Core(OriginConfig c, EventLog* event_log);

  const OriginConfig config;
  EventLog* const log;
  std::string html;
  std::unordered_map<std::string, Route> routes;  // page and resources, checksums precomputed
  std::unique_ptr<asio::ssl::context> tls;
  std::string certificate_pem;
  std::uint16_t port = 0;  // set by bind(), before any other thread can look

  // Touched only on the io_context's thread.
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> slot_freed;  // wakes the accept loop at max_connections
  bool stopping = false;
  std::uint64_t next_conn = 1;
  std::uint32_t open = 0;
  std::unordered_map<std::uint64_t, std::function<void()>> aborters;  // for stop()

  // Read by other threads.
  mutable std::mutex mutex;
  std::uint32_t active = 0, idle = 0;
  std::vector<Origin::Sample> samples;
  Origin::Counters counters;

  const Route* route(std::string_view target) const;
  void emit(OriginEvent kind, std::uint64_t conn, std::uint64_t request = 0, std::int64_t a = 0,
            std::int64_t b = 0, std::int64_t c = 0, std::int64_t t_ns = 0) const;
  // Moves a connection to `next`; on a change of the counts, records a sample and an event.
  void set_state(ConnState& state, ConnState next, std::uint64_t conn);
  void count(std::uint64_t Origin::Counters::*field);
  void bind(asio::io_context& ioc);
  void begin_stop();
};

// Beast reads up to 64 KiB at a time; a connection's buffer holds a head plus one such read.
inline constexpr std::size_t kBufferLimit = kMaxHeadBytes + 64 * 1024 + 8192;

// The connection's byte stream (plain or TLS) with one deadline that cancels, rather than
// closes, the pending operation: a timed-out request head can still be answered with 408.
// Models AsyncReadStream/AsyncWriteStream so Beast's algorithms run on it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using executor_type = tcp::socket::executor_type;

  Connection(Core& c, tcp::socket socket, std::uint64_t conn_id)
      : core(c),
        id(conn_id),
        rng(c.config.seed + conn_id * 0x9e3779b97f4a7c15ULL),  // seed + id * golden ratio
        buffer(kBufferLimit),
        think_timer(socket.get_executor()),
        plain_(socket.get_executor()),
        deadline_(socket.get_executor()) {
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // heads and small bodies leave at once
    if (c.tls)
      tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket), *c.tls);
    else
      plain_ = std::move(socket);
  }

  executor_type get_executor() { return socket().get_executor(); }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : plain_; }
  asio::ssl::stream<tcp::socket>* tls() { return tls_.get(); }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& b, Token&& token) {
    if (!tls_) return plain_.async_read_some(b, std::forward<Token>(token));
    return tls_->async_read_some(b, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& b, Token&& token) {
    if (!tls_) return plain_.async_write_some(b, std::forward<Token>(token));
    return tls_->async_write_some(b, std::forward<Token>(token));
  }

  // Operations started after arm() are cancelled when `d` passes before disarm().
  void arm(Nanos d) {
    timed_out_ = false;
    const std::uint64_t gen = ++gen_;
    deadline_.expires_after(d);
    deadline_.async_wait([self = shared_from_this(), gen](error_code ec) {
      if (ec || gen != self->gen_) return;  // re-armed or disarmed since
      self->timed_out_ = true;
      error_code ignored;
      self->socket().cancel(ignored);
    });
  }
  void disarm() {
    ++gen_;
    deadline_.cancel();
  }
  bool timed_out() const { return timed_out_; }

  // stop(): every pending operation ends at once.
  void abort() {
    disarm();
    think_timer.cancel();
    error_code ignored;
    socket().close(ignored);
  }

  void close() {
    disarm();
    // Otherwise OpenSSL takes the connection for a broken one and drops its session.
    if (tls_) SSL_set_shutdown(tls_->native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    error_code ignored;
    socket().close(ignored);
  }

  Core& core;
  const std::uint64_t id;
  Rng rng;  // think-time jitter, reproducible per (seed, connection)
  boost::beast::flat_buffer buffer;
  asio::steady_timer think_timer;
  ConnState state = ConnState::closed;
  std::uint64_t index = 0;   // responses begun: the `request` of events
  std::uint64_t served = 0;  // responses completely written
  bool tls_up = false;

 private:
  tcp::socket plain_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
  asio::steady_timer deadline_;
  std::uint64_t gen_ = 0;
  bool timed_out_ = false;
};

// Serves one accepted connection until it closes, then counts it out.
asio::awaitable<void> serve_connection(Core& core, tcp::socket socket, std::uint64_t id);

// The co_spawn completion handler's report: expected errors are values, this is for the rest.
void report_crash(std::exception_ptr e);

}  // namespace satlink::simulator::detail
