#include "stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace satlink::proxycore::detail {

Stream::Stream(tcp::socket socket, asio::ssl::context* tls)
    : plain_(socket.get_executor()), timer_(socket.get_executor()) {
  if (tls)
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket), *tls);
  else
    plain_ = std::move(socket);
}

Stream::~Stream() = default;

void Stream::arm(std::chrono::milliseconds d) {
  timed_out_ = false;
  deadline_ = Clock::now() + d;
  // A pending wait that ends later than the new deadline must be re-aimed; one that ends earlier
  // will notice the later deadline when it fires and wait again.
  if (!waiting_ || deadline_ < timer_.expiry()) start_wait();
}

void Stream::start_wait() {
  if (closed_) return;
  waiting_ = true;
  timer_.expires_at(deadline_);  // cancels a wait in progress; its handler sees an old gen
  const auto gen = ++wait_gen_;
  timer_.async_wait([self = shared_from_this(), gen](error_code) {
    if (gen != self->wait_gen_) return;
    self->waiting_ = false;
    if (self->closed_ || self->deadline_ == Clock::time_point::max()) return;
    if (Clock::now() < self->deadline_) {
      self->start_wait();
      return;
    }
    self->timed_out_ = true;
    self->deadline_ = Clock::time_point::max();
    error_code ignored;
    self->socket().cancel(ignored);
  });
}

namespace {
// How long a closing TLS connection may take to write its close_notify.
constexpr std::chrono::milliseconds kTlsCloseWait{250};
}  // namespace

void Stream::close_gracefully() {
  if (closed_ || closing_) return;
  if (!tls_) {
    close();
    return;
  }
  closing_ = true;
  auto shutdown = [](std::shared_ptr<Stream> self) -> asio::awaitable<void> {
    // Send our close_notify without waiting for the peer's (as HTTP servers do): OpenSSL is
    // told the peer's already came, so SSL_shutdown completes once ours is written, and no
    // EOF from a peer that just closes is taken for a fatal error that would kill the session.
    SSL_set_shutdown(self->tls_->native_handle(), SSL_RECEIVED_SHUTDOWN);
    self->arm(kTlsCloseWait);
    co_await self->tls_->async_shutdown(asio::as_tuple(asio::use_awaitable));
    self->close();
  };
  asio::co_spawn(get_executor(), shutdown(shared_from_this()), asio::detached);
}

void Stream::close() {
  if (closed_) return;
  closed_ = true;
  // Without this, OpenSSL takes an unshut connection for a broken one and makes its session
  // unresumable (both ours as a server and the one we hold for an origin).
  if (tls_) SSL_set_shutdown(tls_->native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  timer_.cancel();
  error_code ignored;
  socket().close(ignored);  // no shutdown() first: close says FIN by itself, one syscall less
}

}  // namespace satlink::proxycore::detail
