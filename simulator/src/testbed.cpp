// Wires one trial, and the Chain the live testbed shares. Everything runs on one io_context
// driven by the calling thread, so a trial's components never compete with each other for a
// lock; trials run side by side on threads.
#include "satlink/simulator/testbed.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "testbed_chain.hpp"

namespace satlink::simulator {

namespace asio = boost::asio;

namespace {

constexpr auto kCancelPoll = std::chrono::milliseconds(20);
constexpr auto kTeardownLimit = std::chrono::seconds(3);

OriginConfig origin_config(const Trial& t) {
  const Scenario& s = t.scenario;
  OriginConfig c;
  c.page = s.page;
  c.think = s.origin.think;
  c.keep_alive = s.origin.keep_alive;
  c.max_connections = s.origin.max_connections;
  if (const MemoryModel* m = find_memory_model(s.origin.memory_model)) c.memory = *m;
  c.tls = s.origin.tls;
  c.tls_version = s.origin.tls_version;
  c.seed = t.seed;
  return c;
}

LinkOptions link_options(const LinkSpec& spec, Component component, std::uint16_t target,
                         bool log_chunks) {
  LinkOptions o;
  o.config = spec.config;
  o.target_port = target;
  o.component = component;
  o.log_chunks = log_chunks;
  return o;
}

proxycore::ProxyConfig proxy_config(const Trial& t, std::uint16_t server_link_port) {
  proxycore::ProxyConfig c = t.scenario.proxy;
  const ModeSides m = sides(t.mode);
  c.client.bind = "127.0.0.1";
  c.client.port = 0;
  c.client.keep_alive = m.client_keep_alive;
  c.server.keep_alive = m.server_keep_alive;
  c.threads = 1;
  c.stats.enabled = false;
  c.backends.clear();
  proxycore::BackendConfig b;
  b.name = "origin";
  b.servers.push_back({"origin", "127.0.0.1", server_link_port, 0});
  b.tls.enabled = t.scenario.origin.tls;  // HTTPS to the origin when the origin speaks it
  c.backends.push_back(std::move(b));
  return c;
}

ReplayOptions replay_options(const Trial& t, std::uint16_t port, bool tls) {
  const ClientSpec& c = t.scenario.client;
  ReplayOptions o;
  o.port = port;
  o.page_path = t.scenario.page.path;
  o.connections_per_host = c.connections_per_host;
  o.keep_alive = c.keep_alive;
  o.http_version = c.http10 ? HttpVersion::http10 : HttpVersion::http11;
  o.pipelining = c.pipelining;
  o.users = c.users;
  o.tls = tls;
  o.timeout_ms = t.scenario.experiment.trial_timeout_ms;
  o.idle_hold_ms = t.scenario.experiment.hold_ms;  // a browser keeps its idle connections too
  return o;
}

// The parts of one trial, declared in the order they are built (and destroyed in reverse).
struct Bed {
  asio::io_context ioc{1};
  EventLog log;
  Chain chain{log};
  std::optional<Replay> replay;
};

}  // namespace

TrialRun run_trial(const Trial& t, const std::atomic<bool>& cancel) {
  TrialRun run;
  run.wall_offset_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count() -
      now_ns();
  Bed bed;
  const Scenario& s = t.scenario;
  try {
    bed.chain.build(bed.ioc, t, ChainOptions{});
    bed.replay.emplace(replay_options(t, bed.chain.port(), bed.chain.tls), &bed.log);
  } catch (const std::exception& e) {
    run.error = std::string("testbed: ") + e.what();
    bed.chain.stop_all();
    bed.ioc.run_for(kTeardownLimit);
    return run;
  }

  // Cancellation is polled: the flag belongs to another thread and needs no handler of ours.
  asio::steady_timer poll(bed.ioc);
  bool finished = false;
  std::function<void()> watch = [&] {
    poll.expires_after(kCancelPoll);
    poll.async_wait([&](boost::system::error_code ec) {
      if (ec || finished) return;
      if (cancel.load()) {
        run.cancelled = true;
        bed.replay->cancel();
      }
      watch();
    });
  };
  watch();
  // experiment.hold_ms: the testbed stays up after the loads (idle connections held); a cancel
  // ends the hold at once.
  asio::steady_timer hold(bed.ioc);
  // poll.cancel() cannot recall a poll handler that already expired and is queued: without this
  // flag that handler re-armed the poll after the hold, and the trial never ended (seen 1 trial
  // in 12 of origin-memory, where 12 trials held at once).
  bool hold_over = false;
  std::function<void()> watch_hold = [&] {
    poll.expires_after(kCancelPoll);
    poll.async_wait([&](boost::system::error_code ec) {
      if (ec || hold_over) return;
      if (cancel.load()) return static_cast<void>(hold.cancel());
      watch_hold();
    });
  };
  bed.replay->start_on(bed.ioc, [&](const ReplayResult& r) {
    finished = true;
    poll.cancel();
    run.requests = r.requests;
    if (r.users_failed > 0) run.error = r.first_error.empty() ? "page load failed" : r.first_error;
    if (run.cancelled || s.experiment.hold_ms <= 0) return bed.chain.stop_all();
    hold.expires_after(std::chrono::microseconds(static_cast<std::int64_t>(s.experiment.hold_ms * 1000)));
    hold.async_wait([&](boost::system::error_code) {
      hold_over = true;
      poll.cancel();
      bed.chain.stop_all();
    });
    watch_hold();
  });
  bed.ioc.run();
  run.events = bed.log.events();
  return run;
}

void Chain::build(asio::io_context& ioc, const Trial& t, const ChainOptions& options) {
  const Scenario& s = t.scenario;
  try {
    origin.emplace(origin_config(t), &log);
    origin->start_on(ioc);
    server_link.emplace(
        link_options(s.server_link, Component::server_link, origin->port(), options.log_chunks),
        &log);
    server_link->start_on(ioc);
    std::uint16_t client_target = server_link->port();
    tls = s.origin.tls;
    if (sides(t.mode).proxy) {
      proxy.emplace(proxy_config(t, server_link->port()), proxy_sink.get());
      proxy->start_on(ioc);
      client_target = proxy->port();
      tls = s.proxy.client.tls.enabled;
    }
    LinkOptions entry =
        link_options(s.client_link, Component::client_link, client_target, options.log_chunks);
    entry.listen_address = options.listen_address;
    entry.listen_port = options.listen_port;
    client_link.emplace(std::move(entry), &log);
    client_link->start_on(ioc);
  } catch (const std::exception&) {
    stop_all();
    ioc.run_for(kTeardownLimit);
    throw;
  }
}

void Chain::stop_all() {
  if (client_link) client_link->close(LinkClose::abort);
  if (proxy) proxy->stop();
  if (server_link) server_link->close(LinkClose::abort);
  if (origin) origin->stop();
}

std::uint16_t Chain::port() const { return client_link ? client_link->port() : 0; }

}  // namespace satlink::simulator
