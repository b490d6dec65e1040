#include "satlink/simulator/experiment.hpp"

#include <algorithm>
#include <mutex>
#include <thread>

#include "satlink/simulator/testbed.hpp"

namespace satlink::simulator {

namespace {

int tls_rtts(bool on, bool tls12) { return on ? (tls12 ? 2 : 1) : 0; }

TrialResult measure(const Trial& t, const RunOptions& options, const std::atomic<bool>& cancel) {
  TrialResult r;
  r.index = t.index;
  r.mode = t.mode;
  r.point = t.point;
  r.sweep_values = t.sweep_values;
  r.repetition = t.repetition;
  r.seed = t.seed;
  r.label = t.label();
  const PredictionInput in = prediction_input(t);
  r.predicted_seed = predict(in, PredictionModel::seed);
  r.predicted_tcp = predict(in, PredictionModel::tcp);
  TrialRun run = run_trial(t, cancel);
  r.error = run.error;
  r.cancelled = run.cancelled;
  r.wall_offset_ns = run.wall_offset_ns;
  r.targets = std::move(run.requests);
  r.metrics = trial_metrics(run.events);
  r.requests = request_metrics(run.events);
  r.loads = page_loads(run.events);
  r.series = occupancy_series(run.events);
  if (options.keep_events) r.events = std::move(run.events);
  return r;
}

}  // namespace

PredictionInput prediction_input(const Trial& t) {
  const Scenario& s = t.scenario;
  const ModeSides m = sides(t.mode);
  PredictionInput in;
  in.client_rtt_ms = s.client_link.config.rtt_ms();
  in.client_down_bps = s.client_link.config.down.rate_bps;
  in.client_up_bps = s.client_link.config.up.rate_bps;
  in.proxy = m.proxy;
  in.server_rtt_ms = s.server_link.config.rtt_ms();
  in.server_down_bps = s.server_link.config.down.rate_bps;
  const bool origin_keeps = s.origin.keep_alive.enabled && s.origin.keep_alive.timeout_ms > 0;
  in.client_keep_alive = s.client.keep_alive && (m.proxy ? m.client_keep_alive : origin_keeps);
  in.server_keep_alive = m.server_keep_alive && origin_keeps;
  in.server_reuse_across_clients = s.proxy.server.reuse == proxycore::ReusePolicy::always;
  in.connections = s.client.connections_per_host;
  const bool origin_tls12 = s.origin.tls_version == TlsVersion::v1_2;
  in.client_tls_rtts = m.proxy ? tls_rtts(s.proxy.client.tls.enabled,
                                          s.proxy.client.tls.version == proxycore::TlsVersion::v1_2)
                               : tls_rtts(s.origin.tls, origin_tls12);
  in.server_tls_rtts = tls_rtts(s.origin.tls, origin_tls12);
  in.slow_start = s.client_link.config.slow_start.enabled;
  in.initial_window = s.client_link.config.slow_start.initial_window;
  in.mss = s.client_link.config.mss;
  in.restart_after_idle = s.client_link.config.slow_start.restart_after_idle;
  const std::string html = page_html(s.page);
  in.html_bytes = html.size();
  for (const std::string& url : html_resource_urls(html)) {
    for (const Resource& res : s.page.resources)
      if (res.path == url) in.resource_bytes.push_back(res.size);
  }
  in.think_ms = s.origin.think.ms;
  return in;
}

std::uint32_t effective_parallelism(const ExperimentPlan& plan, const RunOptions& options) {
  std::uint32_t p = options.parallelism;
  if (p == 0 && !plan.trials.empty()) p = plan.trials.front().scenario.experiment.parallelism;
  if (p == 0) p = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  return std::max<std::uint32_t>(1, std::min<std::uint32_t>(p, static_cast<std::uint32_t>(
                                                                   std::max<std::size_t>(1, plan.trials.size()))));
}

std::vector<TrialResult> run_experiment(const ExperimentPlan& plan, const RunOptions& options,
                                        const ProgressFn& progress,
                                        const std::atomic<bool>& cancel) {
  std::vector<TrialResult> results;
  std::mutex mutex;
  Progress state;
  state.total = plan.trials.size();
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (;;) {
      const std::size_t i = next++;
      if (i >= plan.trials.size() || cancel.load()) return;
      TrialResult r;
      try {
        r = measure(plan.trials[i], options, cancel);
      } catch (const std::exception& e) {  // a trial's failure is its own, never the run's
        r.index = plan.trials[i].index;
        r.mode = plan.trials[i].mode;
        r.label = plan.trials[i].label();
        r.error = e.what();
      }
      if (r.cancelled) return;
      std::lock_guard lock(mutex);
      ++state.done;
      if (!r.error.empty()) ++state.failed;
      if (progress) progress(state, r);
      results.push_back(std::move(r));
    }
  };
  std::vector<std::thread> threads;
  const std::uint32_t n = effective_parallelism(plan, options);
  for (std::uint32_t i = 0; i < n; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  std::sort(results.begin(), results.end(),
            [](const TrialResult& a, const TrialResult& b) { return a.index < b.index; });
  return results;
}

}  // namespace satlink::simulator
