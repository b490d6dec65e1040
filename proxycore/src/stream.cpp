#include "stream.hpp"

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

void Stream::close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  error_code ignored;
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
}

}  // namespace satlink::proxycore::detail
