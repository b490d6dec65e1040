// The live testbed: testbed.cpp's Chain on an io_context of its own thread, for as long as a
// person wants to browse through it; its lifecycle (start, stop), the hops it shows and the
// links changed while it runs. The request rows and counters it reports (LiveTally) are in
// live_tally.cpp.
#include "satlink/simulator/live_testbed.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
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

// The scenario loader's ranges (scenario_json.cpp), so a slider cannot serve what a file could
// not say.
constexpr double kMaxMs = 3'600'000;
constexpr double kMaxRate = 1e12;

void check_range(double v, double lo, double hi, const std::string& field) {
  if (v >= lo && v <= hi) return;  // also refuses NaN
  std::ostringstream out;
  out << "live testbed: " << field << " must be in " << lo << ".." << hi << ", got " << v;
  throw std::invalid_argument(out.str());
}

void check_direction(const Direction& d, const std::string& name) {
  check_range(d.delay_ms, 0, kMaxMs, name + ".delay_ms");
  check_range(d.jitter.ms, 0, kMaxMs, name + ".jitter.ms");
  check_range(d.rate_bps, 0, kMaxRate, name + ".rate_bps");
  check_range(d.loss.rate, 0, 1, name + ".loss.rate");
  check_range(d.loss.burst_enter, 0, 1, name + ".loss.burst_enter");
  check_range(d.loss.burst_exit, 0.001, 1, name + ".loss.burst_exit");
  check_range(d.loss.burst_rate, 0, 1, name + ".loss.burst_rate");
}

}  // namespace

AddressKind classify_address(std::string_view address) {
  boost::system::error_code ec;
  const auto a = asio::ip::make_address(std::string(address), ec);
  if (ec) return AddressKind::invalid;
  return a.is_loopback() ? AddressKind::loopback : AddressKind::other;
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
  // Guards what set_link changes and what the reads from other threads see.
  mutable std::mutex mutex;
  std::vector<LiveHop> hops;
  LinkConfig client_config, server_config;
  // The tally and how many of the log's events it has read.
  mutable std::mutex tally_mutex;
  mutable std::optional<LiveTally> tally;
  mutable std::size_t tallied = 0;

  // Reads the events logged since the last call. EventLog has no "events from index" read;
  // wait_for runs its predicate on the events under the log's lock and returns at once when
  // it holds, which gives exactly that without copying the whole log every poll.
  void catch_up() const {
    if (!tally) return;
    log.wait_for(
        [&](const EventList& events) {
          for (std::size_t i = tallied; i < events.size(); ++i) tally->add(events[i]);
          tallied = events.size();
          return true;
        },
        std::chrono::milliseconds(0));
  }
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
  {
    std::lock_guard lock(impl_->tally_mutex);
    impl_->log.clear();
    impl_->tally.emplace(sides(mode).proxy);
    impl_->tallied = 0;
  }
  auto run = std::make_unique<Running>(impl_->log);
  const Trial trial = live_trial(scenario, mode);
  run->chain.build(run->ioc, trial,
                   ChainOptions{options.listen_address, options.listen_port, false});
  const Chain& c = run->chain;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->client_config = c.client_link->config();
    impl_->server_config = c.server_link->config();
    impl_->hops.clear();
    impl_->hops.push_back({"client link", options.listen_address, c.client_link->port(),
                           describe(impl_->client_config)});
    if (c.proxy) impl_->hops.push_back({"proxy", kLoopback, c.proxy->port(), ""});
    impl_->hops.push_back({"server link", kLoopback, c.server_link->port(),
                           describe(impl_->server_config)});
    impl_->hops.push_back({"origin", kLoopback, c.origin->port(), ""});
  }
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
  if (!running()) return {};
  std::lock_guard lock(impl_->mutex);
  return impl_->hops;
}

void LiveTestbed::set_link(LinkSide side, const LinkConfig& config) {
  if (!impl_->running) throw std::logic_error("live testbed: not running");
  const std::string name = side == LinkSide::client ? "client_link" : "server_link";
  check_direction(config.up, name + ".up");
  check_direction(config.down, name + ".down");
  Chain& c = impl_->running->chain;
  (side == LinkSide::client ? *c.client_link : *c.server_link).set_config(config);
  std::lock_guard lock(impl_->mutex);
  (side == LinkSide::client ? impl_->client_config : impl_->server_config) = config;
  const std::string hop = side == LinkSide::client ? "client link" : "server link";
  for (LiveHop& h : impl_->hops)
    if (h.name == hop) h.detail = describe(config);
}

LinkConfig LiveTestbed::link_config(LinkSide side) const {
  if (!running()) return {};
  std::lock_guard lock(impl_->mutex);
  return side == LinkSide::client ? impl_->client_config : impl_->server_config;
}

const EventLog& LiveTestbed::log() const {
  return impl_->log;
}

LiveCounters LiveTestbed::counters() const {
  std::lock_guard lock(impl_->tally_mutex);
  impl_->catch_up();
  return impl_->tally ? impl_->tally->counters() : LiveCounters{};
}

LiveRequestPage LiveTestbed::requests_since(std::uint64_t seen) const {
  std::lock_guard lock(impl_->tally_mutex);
  impl_->catch_up();
  LiveRequestPage page;
  if (!impl_->tally) return page;
  const auto& kept = impl_->tally->finished();
  page.total = impl_->tally->finished_total();
  page.first = std::max<std::uint64_t>(seen, page.total - kept.size());
  for (std::uint64_t i = page.first; i < page.total; ++i)
    page.rows.push_back(kept[static_cast<std::size_t>(i - (page.total - kept.size()))]);
  return page;
}

}  // namespace satlink::simulator
