// The live testbed: testbed.cpp's Chain on an io_context of its own thread, for as long as a
// person wants to browse through it.
#include "satlink/simulator/live_testbed.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "testbed_chain.hpp"

namespace satlink::simulator {

namespace asio = boost::asio;

namespace {

// Teardown normally takes milliseconds (every connection is aborted); this bounds a part that
// would not let go, so stop() always returns.
constexpr auto kTeardownLimit = std::chrono::seconds(3);
constexpr const char* kLoopback = "127.0.0.1";

// As plan_experiment seeds a trial, without re-loading the scenario: a scenario changed in
// memory (the GUI's editor) is served as it is.
Trial live_trial(const Scenario& scenario, Mode mode) {
  Trial t;
  t.mode = mode;
  t.seed = scenario.experiment.seed;
  t.scenario = scenario;
  t.scenario.client_link.config.seed = t.seed;
  t.scenario.server_link.config.seed = t.seed + 1;
  return t;
}

std::string rate(double bps) {
  std::ostringstream out;
  if (bps >= 1e6)
    out << bps / 1e6 << " Mbit/s";
  else if (bps >= 1e3)
    out << bps / 1e3 << " kbit/s";
  else
    out << bps << " bit/s";
  return out.str();
}

std::string describe(const LinkConfig& c) {
  std::ostringstream out;
  out << "RTT " << c.rtt_ms() << " ms";
  if (c.down.rate_bps > 0) out << ", down " << rate(c.down.rate_bps);
  if (c.up.rate_bps > 0) out << ", up " << rate(c.up.rate_bps);
  return out.str();
}

std::string url_host(const std::string& address) {
  boost::system::error_code ec;
  const auto a = asio::ip::make_address(address, ec);
  if (ec) return address;
  if (a.is_unspecified()) return a.is_v6() ? "[::1]" : kLoopback;
  return a.is_v6() ? "[" + address + "]" : address;
}

}  // namespace

AddressKind classify_address(std::string_view address) {
  boost::system::error_code ec;
  const auto a = asio::ip::make_address(std::string(address), ec);
  if (ec) return AddressKind::invalid;
  return a.is_loopback() ? AddressKind::loopback : AddressKind::other;
}

LiveCounters live_counters(const std::vector<LogEvent>& events) {
  LiveCounters c;
  for (const LogEvent& e : events) {
    if (e.is(LinkEvent::accept) && e.component == Component::client_link)
      ++c.client_link_connections;
    if (e.is(proxycore::EventKind::client_accept)) ++c.proxy_client_connections;
    if (e.is(proxycore::EventKind::server_connect_start)) ++c.proxy_server_connections;
    if (e.is(proxycore::EventKind::server_reuse)) ++c.proxy_server_reuses;
    if (e.is(OriginEvent::accept)) ++c.origin_connections;
    if (e.is(OriginEvent::request)) ++c.origin_requests;
    if (e.is(OriginEvent::occupancy))
      c.origin_open_connections = static_cast<std::uint64_t>(e.a + e.b);
  }
  return c;
}

// What exists while the testbed runs; destroyed in reverse: the thread is joined first, then
// the chain's parts go before the io_context they were bound to.
struct Running {
  explicit Running(EventLog& log) : chain(log) {}
  asio::io_context ioc{1};
  Chain chain;
  std::thread thread;
  std::mutex mutex;
  std::condition_variable ended_cv;
  bool ended = false;
};

struct LiveTestbed::Impl {
  EventLog log;
  std::unique_ptr<Running> running;
  std::string url;
  std::vector<LiveHop> hops;
};

LiveTestbed::LiveTestbed() : impl_(std::make_unique<Impl>()) {}

LiveTestbed::~LiveTestbed() {
  stop();
}

void LiveTestbed::start(const Scenario& scenario, Mode mode, const LiveOptions& options) {
  if (impl_->running) throw std::logic_error("live testbed: already running");
  if (classify_address(options.listen_address) == AddressKind::invalid) {
    throw std::invalid_argument("live testbed: bad listen address '" + options.listen_address +
                                "' (a numeric IPv4 or IPv6 address)");
  }
  impl_->log.clear();
  auto run = std::make_unique<Running>(impl_->log);
  const Trial trial = live_trial(scenario, mode);
  run->chain.build(run->ioc, trial,
                   ChainOptions{options.listen_address, options.listen_port, false});
  const Chain& c = run->chain;
  impl_->hops.clear();
  impl_->hops.push_back({"client link", options.listen_address, c.client_link->port(),
                         describe(scenario.client_link.config)});
  if (c.proxy) impl_->hops.push_back({"proxy", kLoopback, c.proxy->port(), ""});
  impl_->hops.push_back(
      {"server link", kLoopback, c.server_link->port(), describe(scenario.server_link.config)});
  impl_->hops.push_back({"origin", kLoopback, c.origin->port(), ""});
  impl_->url = std::string(c.tls ? "https://" : "http://") + url_host(options.listen_address) +
               ":" + std::to_string(c.port()) + scenario.page.path;
  run->thread = std::thread([r = run.get()] {
    r->ioc.run();
    std::lock_guard lock(r->mutex);
    r->ended = true;
    r->ended_cv.notify_all();
  });
  impl_->running = std::move(run);
}

void LiveTestbed::stop() {
  if (!impl_->running) return;
  Running& r = *impl_->running;
  r.chain.stop_all();  // every part posts its closing to the io_context: safe from here
  {
    std::unique_lock lock(r.mutex);
    if (!r.ended_cv.wait_for(lock, kTeardownLimit, [&] { return r.ended; })) r.ioc.stop();
  }
  r.thread.join();
  impl_->running.reset();
}

bool LiveTestbed::running() const {
  return impl_->running != nullptr;
}

std::string LiveTestbed::url() const {
  return running() ? impl_->url : std::string();
}

std::vector<LiveHop> LiveTestbed::chain() const {
  return running() ? impl_->hops : std::vector<LiveHop>{};
}

const EventLog& LiveTestbed::log() const {
  return impl_->log;
}

LiveCounters LiveTestbed::counters() const {
  return live_counters(impl_->log.events());
}

}  // namespace satlink::simulator
