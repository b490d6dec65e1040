// The origin: presets, the shared state, the listener, start and stop. One connection's life
// is in origin_session.cpp.
#include "satlink/simulator/origin.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "origin_session.hpp"
#include "satlink/proxycore/self_signed.hpp"

namespace satlink::simulator {

const std::vector<MemoryModel>& memory_models() {
  static const std::vector<MemoryModel> models{
      {"nginx", 250, 6000,
       "idle: nginx.org, \"10,000 inactive HTTP keep-alive connections take about 2.5M memory\"; "
       "active (unconfirmed): derived from nginx's default buffers, connection_pool_size 512 + "
       "request_pool_size 4k + client_header_buffer_size 1k, with sendfile"},
      {"haproxy", 1200, 33000,
       "active: HAProxy configuration manual, two tune.bufsize buffers (16 KiB each) per stream, "
       "about 33 kB; idle (unconfirmed by the manual, which says buffers are released when "
       "idle): about 1.2 KB measured with HAProxy 2.6 in bench/proxy-vs-peers"},
      {"apache-prefork", 10e6, 10e6,
       "a whole child process per connection, pinned for KeepAliveTimeout; 5-40 MB per child "
       "reported (anecdotal, unconfirmed); 10 MB taken as a round middle"},
  };
  return models;
}

const MemoryModel* find_memory_model(std::string_view name) {
  for (const auto& m : memory_models())
    if (m.name == name) return &m;
  return nullptr;
}

const std::vector<OriginKeepAlivePreset>& origin_keep_alive_presets() {
  static const std::vector<OriginKeepAlivePreset> presets{
      {"apache",
       {true, 5000, 100},
       "Apache httpd defaults: KeepAliveTimeout 5, MaxKeepAliveRequests 100"},
      {"nginx",
       {true, 75000, 1000},
       "nginx defaults: keepalive_timeout 75s, keepalive_requests 1000 (since 1.19.10)"},
      {"off", {false, 0, 0}, "no keep-alive: every response carries Connection: close"},
  };
  return presets;
}

const OriginKeepAlivePreset* find_origin_keep_alive_preset(std::string_view name) {
  for (const auto& p : origin_keep_alive_presets())
    if (p.name == name) return &p;
  return nullptr;
}

std::string_view to_string(TlsVersion v) { return v == TlsVersion::v1_2 ? "1.2" : "1.3"; }

std::string_view to_string(OriginCloseReason r) {
  switch (r) {
    case OriginCloseReason::peer_closed:
      return "peer_closed";
    case OriginCloseReason::keep_alive_timeout:
      return "keep_alive_timeout";
    case OriginCloseReason::max_requests:
      return "max_requests";
    case OriginCloseReason::keep_alive_off:
      return "keep_alive_off";
    case OriginCloseReason::client_asked:
      return "client_asked";
    case OriginCloseReason::error:
      return "error";
    case OriginCloseReason::stopped:
      return "stopped";
    case OriginCloseReason::request_timeout:
      return "request_timeout";
  }
  return "?";
}

namespace detail {

namespace {
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
// After a failed accept (EMFILE and friends) the listener pauses rather than spin.
constexpr std::chrono::milliseconds kAcceptRetry{50};

std::unique_ptr<asio::ssl::context> make_tls(TlsVersion version, std::string& pem) {
  namespace ssl = asio::ssl;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::single_dh_use);
  const proxycore::PemPair pair = proxycore::generate_self_signed();
  error_code ec;
  ctx->use_certificate_chain(asio::buffer(pair.cert), ec);
  if (!ec) ctx->use_private_key(asio::buffer(pair.key), ssl::context::pem, ec);
  if (ec)
    throw std::runtime_error("origin: cannot load the generated certificate: " + ec.message());
  SSL_CTX* native = ctx->native_handle();
  const int v = version == TlsVersion::v1_2 ? TLS1_2_VERSION : TLS1_3_VERSION;
  SSL_CTX_set_min_proto_version(native, v);
  SSL_CTX_set_max_proto_version(native, v);
  // Resumption allowed: a session cache for TLS 1.2 session ids; tickets stay on (default).
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
  static const unsigned char sid_ctx[] = "satlink-origin";
  SSL_CTX_set_session_id_context(native, sid_ctx, sizeof sid_ctx - 1);
  pem = pair.cert;
  return ctx;
}

}  // namespace

asio::awaitable<void> accept_loop(Core& core) {
  const std::uint32_t limit = core.config.max_connections;
  for (;;) {
    while (limit != 0 && core.open >= limit && !core.stopping) {
      core.slot_freed->expires_at(asio::steady_timer::time_point::max());
      co_await core.slot_freed->async_wait(use_nothrow);  // cancelled when one closes
    }
    if (core.stopping) co_return;
    auto [ec, socket] = co_await core.acceptor->async_accept(use_nothrow);
    if (core.stopping) co_return;
    if (ec) {
      core.slot_freed->expires_after(kAcceptRetry);
      co_await core.slot_freed->async_wait(use_nothrow);
      continue;
    }
    const std::uint64_t id = core.next_conn++;
    ++core.open;
    {
      std::lock_guard lock(core.mutex);
      ++core.counters.accepted;
      core.counters.open = core.open;
    }
    core.emit(OriginEvent::accept, id, 0, core.open);
    asio::co_spawn(core.acceptor->get_executor(), serve_connection(core, std::move(socket), id),
                   [keep = core.shared_from_this()](std::exception_ptr e) { report_crash(e); });
  }
}

Nanos from_ms(double ms) {
  return std::chrono::duration_cast<Nanos>(std::chrono::duration<double, std::milli>(ms));
}

void report_crash(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "satlink origin: a coroutine ended by an exception: %s\n", ex.what());
  }
}

Core::Core(OriginConfig c, EventLog* event_log) : config(std::move(c)), log(event_log) {
  const auto problems = validate(config.page);
  if (!problems.empty()) {
    std::string text = "origin: invalid page:";
    for (const auto& p : problems) text += "\n  " + p;
    throw std::runtime_error(text);
  }
  html = page_html(config.page);
  BodyChecksum html_sum;
  html_sum.update(html);
  routes.emplace(config.page.path, Route{config.page.path, "text/html; charset=utf-8", html.size(),
                                         &html, config.think, html_sum.value()});
  // Checksums up front: a response's header carries one before its body is generated.
  for (const Resource& r : config.page.resources)
    routes.emplace(r.path, Route{r.path, r.content_type, r.size, nullptr,
                                 r.think.value_or(config.think), body_checksum(r.path, r.size)});
  if (config.tls) tls = make_tls(config.tls_version, certificate_pem);
}

const Route* Core::route(std::string_view target) const {
  // Absolute form (a proxy's request): keep the path only.
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!target.starts_with(scheme)) continue;
    const std::size_t slash = target.find('/', scheme.size());
    target = slash == std::string_view::npos ? "/" : target.substr(slash);
  }
  auto it = routes.find(std::string(target));
  if (it == routes.end()) it = routes.find(std::string(target.substr(0, target.find('?'))));
  return it == routes.end() ? nullptr : &it->second;
}

void Core::emit(OriginEvent kind, std::uint64_t conn, std::uint64_t request, std::int64_t a,
                std::int64_t b, std::int64_t c, std::int64_t t_ns) const {
  if (!log) return;
  log->add(make_event(Component::origin, kind, t_ns != 0 ? t_ns : now_ns(), conn, request, a, b, c));
}

void Core::set_state(ConnState& state, ConnState next, std::uint64_t conn) {
  if (state == next) return;
  Origin::Sample s;
  {
    std::lock_guard lock(mutex);
    if (state == ConnState::active) --active;
    if (state == ConnState::idle) --idle;
    if (next == ConnState::active) ++active;
    if (next == ConnState::idle) ++idle;
    s.t_ns = now_ns();
    s.active = active;
    s.idle = idle;
    s.memory_bytes = idle * config.memory.idle_bytes + active * config.memory.active_bytes;
    samples.push_back(s);
  }
  state = next;
  emit(OriginEvent::occupancy, conn, 0, s.active, s.idle, std::llround(s.memory_bytes), s.t_ns);
}

void Core::count(std::uint64_t Origin::Counters::*field) {
  std::lock_guard lock(mutex);
  ++(counters.*field);
}

void Core::bind(asio::io_context& ioc) {
  if (acceptor) throw std::runtime_error("origin: already started");
  error_code ec;
  const auto address = asio::ip::make_address(config.address, ec);
  if (ec)
    throw std::runtime_error("origin: invalid address \"" + config.address + "\": " + ec.message());
  const tcp::endpoint endpoint(address, config.port);
  auto acc = std::make_unique<tcp::acceptor>(ioc);
  acc->open(endpoint.protocol(), ec);
  if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acc->bind(endpoint, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("origin: cannot listen on " + config.address + ":" +
                             std::to_string(config.port) + ": " + ec.message());
  port = acc->local_endpoint().port();
  acceptor = std::move(acc);
  slot_freed = std::make_unique<asio::steady_timer>(ioc);
  std::lock_guard lock(mutex);
  samples.push_back(Origin::Sample{now_ns(), 0, 0, 0});
}

void Core::begin_stop() {
  if (stopping) return;
  stopping = true;
  error_code ignored;
  if (acceptor) acceptor->close(ignored);
  if (slot_freed) slot_freed->cancel();
  const auto aborting = aborters;  // an aborter may end its session's entry
  for (const auto& [id, abort] : aborting) abort();
}

}  // namespace detail

namespace asio = boost::asio;

struct Origin::Impl {
  std::unique_ptr<asio::io_context> own_ioc;  // start(); declared first: outlives the core
  std::shared_ptr<detail::Core> core;
  asio::io_context* ioc = nullptr;
  std::thread thread;
  std::mutex join_mutex;  // stop() from two threads: one joins, the other waits for it
};

Origin::Origin(OriginConfig config, EventLog* log) : impl_(std::make_unique<Impl>()) {
  impl_->core = std::make_shared<detail::Core>(std::move(config), log);
}

Origin::~Origin() {
  stop();
}

void Origin::start_on(asio::io_context& ioc) {
  auto& core = impl_->core;
  core->bind(ioc);
  impl_->ioc = &ioc;
  // The completion handler owns the core, so the coroutine never outlives what it uses.
  asio::co_spawn(ioc, detail::accept_loop(*core),
                 [keep = core](std::exception_ptr e) { detail::report_crash(e); });
}

void Origin::start() {
  if (impl_->ioc) throw std::runtime_error("origin: already started");
  impl_->own_ioc = std::make_unique<asio::io_context>(1);
  start_on(*impl_->own_ioc);
  impl_->thread = std::thread([io = impl_->own_ioc.get()] { io->run(); });
}

void Origin::stop() {
  if (!impl_->ioc) return;
  asio::post(*impl_->ioc, [core = impl_->core] { core->begin_stop(); });
  if (!impl_->own_ioc) return;
  std::lock_guard lock(impl_->join_mutex);
  if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id())
    impl_->thread.join();
}

std::uint16_t Origin::port() const {
  return impl_->core->port;
}
std::string Origin::certificate_pem() const {
  return impl_->core->certificate_pem;
}
const OriginConfig& Origin::config() const {
  return impl_->core->config;
}

std::vector<Origin::Sample> Origin::occupancy() const {
  std::lock_guard lock(impl_->core->mutex);
  return impl_->core->samples;
}

Origin::Counters Origin::counters() const {
  std::lock_guard lock(impl_->core->mutex);
  return impl_->core->counters;
}

}  // namespace satlink::simulator
