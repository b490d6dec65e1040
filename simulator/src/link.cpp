// The relay around the link model: the listener, the public API, live configuration and close.
// One strand per link, so the shared bottleneck and the connection set need no locks; only the
// configuration is shared with other threads (under a mutex).
#include "link_relay.hpp"

namespace satlink::simulator {

using namespace link_detail;

void LinkState::bind(asio::any_io_executor ex) {
  strand.emplace(asio::make_strand(ex));
  boost::system::error_code ec;
  const auto listen = asio::ip::make_address(options.listen_address, ec);
  if (ec) throw std::invalid_argument("link: bad listen address '" + options.listen_address + "'");
  acceptor.emplace(*strand);
  const tcp::endpoint endpoint(listen, options.listen_port);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("link: cannot listen on " + options.listen_address + ":" +
                             std::to_string(options.listen_port) + ": " + ec.message());
  }
  port = acceptor->local_endpoint().port();
  start_ns = now_ns();
  asio::co_spawn(*strand, accept_loop(), [self = shared_from_this()](std::exception_ptr) {
    self->accept_done = true;
    self->notify_if_closed();
  });
}

awaitable<void> LinkState::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(kUse);
    if (closing) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    socket.set_option(tcp::no_delay(true));
    const std::uint64_t id = next_id++;
    const std::uint64_t seed = snapshot().seed * 0x9e3779b97f4a7c15ULL + id;
    auto conn = std::make_shared<Connection>(shared_from_this(), id, std::move(socket), seed);
    connections.emplace(id, conn);
    ++open;
    conn->start();
  }
}

void LinkState::connection_done(std::uint64_t id) {
  if (connections.erase(id) == 1) --open;
  notify_if_closed();
}

void LinkState::notify_if_closed() {
  std::lock_guard lock(closed_mutex);
  closed_cv.notify_all();
}

Link::Link(LinkOptions options, EventLog* log)
    : impl_(std::make_shared<LinkState>(std::move(options), log)) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(impl_->options.target_address, ec);
  if (ec) {
    throw std::invalid_argument("link: bad target address '" + impl_->options.target_address +
                                "' (a numeric IPv4 or IPv6 address)");
  }
  impl_->target = tcp::endpoint(address, impl_->options.target_port);
}

Link::~Link() {
  if (!impl_->strand) return;
  close(LinkClose::abort);
  if (!impl_->thread.joinable()) return;
  impl_->thread.join();
  // If the thread had already run out of work, the abort is still queued on our io_context and
  // holds the state that owns that io_context: run it so the cycle ends.
  impl_->own_ioc->restart();
  impl_->own_ioc->run();
}

void Link::start_on(asio::io_context& ioc) { impl_->bind(ioc.get_executor()); }

void Link::start() {
  impl_->own_ioc = std::make_unique<asio::io_context>(1);
  impl_->bind(impl_->own_ioc->get_executor());
  impl_->thread = std::thread([impl = impl_] { impl->own_ioc->run(); });
}

std::uint16_t Link::port() const { return impl_->port; }

void Link::set_config(const LinkConfig& config) {
  {
    std::lock_guard lock(impl_->config_mutex);
    impl_->config = config;
  }
  impl_->emit(LinkEvent::config_change, now_ns(), 0, 0, ms_to_ns(config.up.delay_ms) / 1000,
              ms_to_ns(config.down.delay_ms) / 1000);
}

LinkConfig Link::config() const { return impl_->snapshot(); }

void Link::close(LinkClose mode) {
  if (!impl_->strand) return;
  asio::post(*impl_->strand, [impl = impl_, mode] {
    impl->closing = true;
    boost::system::error_code ec;
    impl->acceptor->close(ec);
    auto connections = impl->connections;  // aborting erases from the map
    for (auto& [id, conn] : connections) {
      if (mode == LinkClose::abort) {
        conn->abort();
      } else {
        conn->drain();
      }
    }
  });
}

void Link::wait_closed() {
  std::unique_lock lock(impl_->closed_mutex);
  impl_->closed_cv.wait(lock, [&] { return impl_->accept_done && impl_->open == 0; });
}

std::size_t Link::open_connections() const { return impl_->open; }

}  // namespace satlink::simulator

