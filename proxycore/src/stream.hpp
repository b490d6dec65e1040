// A connection's byte stream: plain TCP or TLS over TCP, with one deadline. Models Asio's
// AsyncReadStream/AsyncWriteStream so Beast's algorithms run on it unchanged.
//
// The deadline does not close the socket when it expires (Beast's tcp_stream does): it cancels
// the pending operations and remembers that it expired, so the session can still answer 408 or
// 504 on the same connection.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>

namespace satlink::proxycore::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

class Stream : public std::enable_shared_from_this<Stream> {
 public:
  using executor_type = tcp::socket::executor_type;

  // Use make(): the deadline timer's handler keeps the stream alive through shared_from_this.
  static std::shared_ptr<Stream> make(tcp::socket socket, asio::ssl::context* tls) {
    return std::shared_ptr<Stream>(new Stream(std::move(socket), tls));
  }
  ~Stream();

  executor_type get_executor() { return socket().get_executor(); }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : plain_; }
  bool is_tls() const { return tls_ != nullptr; }
  asio::ssl::stream<tcp::socket>& tls() { return *tls_; }

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

  // Operations started after arm() are cancelled when `d` elapses without a new arm().
  void arm(std::chrono::milliseconds d);
  void disarm() { deadline_ = Clock::time_point::max(); }
  bool timed_out() const { return timed_out_; }

  // Closes the socket and releases the deadline timer at once. Safe to call twice. A TLS
  // session is marked as properly ended, so it stays resumable.
  void close();
  // TLS: sends close_notify (and waits briefly for the peer's) before closing, so the peer can
  // tell a complete message from a truncated one and may resume the session. Only when no
  // other operation is pending on the stream. Plain TCP: close().
  void close_gracefully();
  bool is_open() { return !closed_ && !closing_ && socket().is_open(); }

 private:
  Stream(tcp::socket socket, asio::ssl::context* tls);
  void start_wait();

  // Plain: the socket itself. TLS: the socket moves into the (large) TLS stream, allocated only
  // then, so a plain idle connection stays small.
  tcp::socket plain_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
  asio::steady_timer timer_;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::uint32_t wait_gen_ = 0;
  bool waiting_ = false;
  bool timed_out_ = false;
  bool closed_ = false;
  bool closing_ = false;
};

}  // namespace satlink::proxycore::detail
