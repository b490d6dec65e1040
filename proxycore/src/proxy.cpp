// The Proxy: workers (one io_context each), SO_REUSEPORT listeners, the stats endpoint, and the
// graceful stop.
#include "satlink/proxycore/proxy.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <stdexcept>
#include <thread>

#include "session.hpp"

namespace satlink::proxycore {

using namespace detail;

namespace {
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);


tcp::acceptor make_acceptor(asio::io_context& ioc, const std::string& bind, std::uint16_t port,
                            bool reuse_port) {
  error_code ec;
  const auto addr = asio::ip::make_address(bind, ec);
  if (ec) throw std::runtime_error("invalid bind address \"" + bind + "\": " + ec.message());
  tcp::endpoint ep(addr, port);
  tcp::acceptor acc(ioc);
  acc.open(ep.protocol());
  acc.set_option(tcp::acceptor::reuse_address(true));
  if (reuse_port) {
    int one = 1;
    ::setsockopt(acc.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  }
  acc.bind(ep, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + bind + ":" + std::to_string(port) + ": " +
                             ec.message());
  acc.listen(asio::socket_base::max_listen_connections);
  return acc;
}

asio::awaitable<void> accept_loop(Worker& w, tcp::acceptor& acc) {
  for (;;) {
    auto [ec, socket] = co_await acc.async_accept(use_nothrow);
    if (ec) {
      if (!acc.is_open() || w.stopping) co_return;
      continue;  // EMFILE and friends: the next accept may succeed
    }
    start_client_session(w, std::move(socket));
  }
}

std::string stats_reply(std::string_view request_line, const Counters& c) {
  std::string body, type = "application/json";
  int status = 200;
  if (request_line.starts_with("GET /stats.csv ")) {
    body = counters_csv(c);
    type = "text/csv";
  } else if (request_line.starts_with("GET /stats ") || request_line.starts_with("GET / ")) {
    body = counters_json(c) + "\n";
  } else {
    status = 404;
    body = "{\"error\": \"try /stats or /stats.csv\"}\n";
  }
  return "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Not Found") +
         "\r\nContent-Type: " + type + "\r\nCache-Control: no-cache\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}
}  // namespace

struct Proxy::Impl {
  Shared shared;
  std::vector<std::unique_ptr<asio::io_context>> own_ioc;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;  // one per worker
  std::vector<std::unique_ptr<asio::steady_timer>> grace;
  std::unique_ptr<tcp::acceptor> stats_acceptor;
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
  std::uint16_t stats_port = 0;

  Counters counters() const {
    Counters total;
    for (const auto& w : workers) add_into(total, w->snapshot());
    return total;
  }

  void bind_all() {
    const auto& client = shared.config.client;
    if (workers.size() > 1 && client.port != 0) {
      // SO_REUSEPORT would quietly share the port with another process listening on it (a
      // second daemon): a plain bind first proves nobody does.
      make_acceptor(workers[0]->ioc, client.bind, client.port, false).close();
    }
    for (std::size_t i = 0; i < workers.size(); ++i) {
      const auto p = i == 0 ? shared.config.client.port : port;
      acceptors.push_back(std::make_unique<tcp::acceptor>(
          make_acceptor(workers[i]->ioc, shared.config.client.bind, p, workers.size() > 1)));
      if (i == 0) port = acceptors[0]->local_endpoint().port();
      grace.push_back(std::make_unique<asio::steady_timer>(workers[i]->ioc));
    }
    if (shared.config.stats.enabled) {
      stats_acceptor = std::make_unique<tcp::acceptor>(make_acceptor(
          workers[0]->ioc, shared.config.stats.bind, shared.config.stats.port, false));
      stats_port = stats_acceptor->local_endpoint().port();
    }
    for (std::size_t i = 0; i < workers.size(); ++i)
      asio::co_spawn(workers[i]->ioc, accept_loop(*workers[i], *acceptors[i]), report_crash);
    if (stats_acceptor) asio::co_spawn(workers[0]->ioc, stats_loop(), report_crash);
  }

  asio::awaitable<void> stats_loop() {
    for (;;) {
      auto [ec, socket] = co_await stats_acceptor->async_accept(use_nothrow);
      if (ec) co_return;
      auto stream = Stream::make(std::move(socket), nullptr);
      beast::flat_buffer buf;
      const auto t = std::chrono::milliseconds(2000);
      const HeadRead h = co_await read_head(*stream, buf, 8192, t, t, kRequestReadSize);
      if (h.status == HeadStatus::ok) {
        const std::string_view head(static_cast<const char*>(buf.data().data()), h.size);
        const std::string reply = stats_reply(head.substr(0, head.find("\r\n") + 1), counters());
        stream->arm(t);
        co_await asio::async_write(*stream, asio::buffer(reply), use_nothrow);
      }
      stream->close();
    }
  }
};

Proxy::Proxy(ProxyConfig config, EventSink* sink) : impl_(std::make_unique<Impl>()) {
  auto& sh = impl_->shared;
  sh.config = std::move(config);
  sh.sink = sink;
  if (sh.config.backends.empty()) throw std::runtime_error("no backend configured");
  if (sh.config.client.tls.enabled) sh.client_tls = make_client_side_context(sh.config.client.tls);
  asio::io_context resolver_ioc;
  tcp::resolver resolver(resolver_ioc);
  for (const auto& b : sh.config.backends) {
    sh.backend_tls.push_back(b.tls.enabled ? make_server_side_context(b.tls) : nullptr);
    auto& eps = sh.server_endpoints.emplace_back();
    for (const auto& s : b.servers) {
      error_code ec;
      auto results = resolver.resolve(s.host, std::to_string(s.port), ec);
      if (ec || results.empty())
        throw std::runtime_error("cannot resolve server " + b.name + "/" + s.name + " host \"" +
                                 s.host + "\": " + ec.message());
      auto& list = eps.emplace_back();
      for (const auto& r : results) list.push_back(r.endpoint());
    }
  }
}

Proxy::~Proxy() {
  if (!impl_->threads.empty()) {
    stop();
    wait();
  }
}

void Proxy::start() {
  const unsigned n = std::max(1u, impl_->shared.config.threads);
  for (unsigned i = 0; i < n; ++i) {
    impl_->own_ioc.push_back(std::make_unique<asio::io_context>(1));
    impl_->workers.push_back(std::make_unique<Worker>(*impl_->own_ioc.back(), impl_->shared));
  }
  impl_->bind_all();
  for (auto& ioc : impl_->own_ioc) impl_->threads.emplace_back([io = ioc.get()] { io->run(); });
}

void Proxy::start_on(asio::io_context& ioc) {
  impl_->workers.push_back(std::make_unique<Worker>(ioc, impl_->shared));
  impl_->bind_all();
}

void Proxy::stop() {
  for (std::size_t i = 0; i < impl_->workers.size(); ++i) {
    Worker* w = impl_->workers[i].get();
    tcp::acceptor* acc = impl_->acceptors[i].get();
    asio::steady_timer* grace = impl_->grace[i].get();
    tcp::acceptor* stats = i == 0 ? impl_->stats_acceptor.get() : nullptr;
    asio::post(w->ioc, [w, acc, grace, stats] {
      if (w->stopping) return;
      error_code ignored;
      acc->close(ignored);
      if (stats) stats->close(ignored);
      w->begin_stop();
      grace->expires_after(w->config().timeouts.grace);
      grace->async_wait([w](error_code) { w->force_stop(); });
      w->on_drained = [grace] { grace->cancel(); };
      if (w->sessions.empty()) grace->cancel();
    });
  }
}

void Proxy::wait() {
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

std::uint16_t Proxy::port() const { return impl_->port; }
std::uint16_t Proxy::stats_port() const { return impl_->stats_port; }
Counters Proxy::counters() const { return impl_->counters(); }
const ProxyConfig& Proxy::config() const { return impl_->shared.config; }

}  // namespace satlink::proxycore
