#include "satlink/simulator/experiment.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <thread>

#include "satlink/simulator/testbed.hpp"

namespace satlink::simulator {

namespace {

// The trial runs its whole chain on the calling thread, so this thread's CPU time is the trial's.
double thread_cpu_ms() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

int tls_rtts(bool on, bool tls12) { return on ? (tls12 ? 2 : 1) : 0; }

TrialResult measure(const Trial& t, const RunOptions& options, const std::atomic<bool>& cancel) {
  TrialResult r = result_of(t);
  const PredictionInput in = prediction_input(t);
  r.predicted_seed = predict(in, PredictionModel::seed);
  r.predicted_tcp = predict(in, PredictionModel::tcp);
  const double cpu_before = thread_cpu_ms();
  TrialRun run = run_trial(t, cancel);
  r.cpu_ms = thread_cpu_ms() - cpu_before;
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

TrialResult result_of(const Trial& t) {
  TrialResult r;
  r.index = t.index;
  r.mode = t.mode;
  r.point = t.point;
  r.sweep_values = t.sweep_values;
  r.repetition = t.repetition;
  r.seed = t.seed;
  r.label = t.label();
  return r;
}

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
  in.users = s.client.users;
  const bool origin_tls12 = s.origin.tls_version == TlsVersion::v1_2;
  in.client_tls_rtts = m.proxy ? tls_rtts(s.proxy.client.tls.enabled,
                                          s.proxy.client.tls.version == proxycore::TlsVersion::v1_2)
                               : tls_rtts(s.origin.tls, origin_tls12);
  in.server_tls_rtts = tls_rtts(s.origin.tls, origin_tls12);
  // A resumed handshake takes 1 RTT in TLS 1.2 and 1.3. The replay client always offers its
  // user's session (ReplayOptions::tls_resume); the origin always accepts it (origin.cpp); the
  // proxy accepts as client.tls says and offers as its backend's default (testbed.cpp).
  const bool client_side_resumes = !m.proxy || s.proxy.client.tls.session_resumption;
  in.client_tls_resumed_rtts = in.client_tls_rtts > 0 && client_side_resumes ? 1 : -1;
  const bool server_side_resumes = proxycore::BackendConfig{}.tls.session_resumption;
  in.server_tls_resumed_rtts = in.server_tls_rtts > 0 && server_side_resumes ? 1 : -1;
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

// Automatic: trials spend nearly all their time waiting on emulated delays (a 275-trial sweep
// used 16 % of two cores at 32 at a time), so many run per core; bench/sweep-speed measures the
// price in timing accuracy. Capped by the file descriptors a trial holds at most (every hop of a
// connection is two sockets, four hops, plus the listeners) so a sweep never runs out of them.
std::uint32_t effective_parallelism(const ExperimentPlan& plan, const RunOptions& options) {
  const std::size_t trials = std::max<std::size_t>(1, plan.trials.size());
  std::uint32_t p = options.parallelism;
  if (p == 0 && !plan.trials.empty()) p = plan.trials.front().scenario.experiment.parallelism;
  if (p == 0) {
    p = std::clamp(16 * std::thread::hardware_concurrency(), 16u, 64u);
    rlimit limit{};
    if (!plan.trials.empty() && ::getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
        limit.rlim_cur != RLIM_INFINITY) {
      const auto& client = plan.trials.front().scenario.client;
      const rlim_t per_trial = 8ull * client.users * std::max(1u, client.connections_per_host) + 16;
      const rlim_t budget = limit.rlim_cur > 64 ? limit.rlim_cur - 64 : 0;
      p = static_cast<std::uint32_t>(std::clamp<rlim_t>(budget / per_trial, 1, p));
    }
  }
  return std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::min<std::size_t>(p, trials)));
}

// Which trials may run side by side. A trial is mostly waiting on emulated delays, but on a
// short link it is CPU-bound (at RTT 0 a 31-object page is ~20 ms of CPU and ~20 ms of wall
// time), and CPU-bound trials side by side delay each other's timers. So each trial has a CPU
// share, its expected CPU time over its expected duration, and trials start only while the
// shares of those running stay within half the machine: long trials run dozens at a time,
// near-zero-RTT ones one or two at a time. The CPU per request is learnt from finished trials.
class Admission {
 public:
  Admission(std::uint32_t slots, double cpu_budget) : slots_(slots), budget_(cpu_budget) {}

  // Blocks until the trial may start; false when the run was cancelled meanwhile.
  bool enter(double share, const std::atomic<bool>& cancel) {
    std::unique_lock lock(mutex_);
    // Polled: the cancel flag belongs to the caller and needs no notification of ours.
    while (!cancel.load()) {
      if (running_ == 0 || (running_ < slots_ && load_ + share <= budget_)) {
        ++running_;
        load_ += share;
        return true;
      }
      changed_.wait_for(lock, std::chrono::milliseconds(50));
    }
    return false;
  }
  void leave(double share, double cpu_ms, std::size_t requests) {
    {
      std::lock_guard lock(mutex_);
      --running_;
      load_ -= share;
      if (requests > 0 && cpu_ms > 0) {
        cpu_ms_ += cpu_ms;
        requests_ += requests;
      }
    }
    changed_.notify_all();
  }
  // Before any trial finished: 0.6 ms per request, what this 2-core machine measured.
  double cpu_ms_per_request() {
    std::lock_guard lock(mutex_);
    return requests_ < 50 ? 0.6 : cpu_ms_ / static_cast<double>(requests_);
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint32_t slots_;
  double budget_;
  std::uint32_t running_ = 0;
  double load_ = 0;
  double cpu_ms_ = 0;
  std::size_t requests_ = 0;
};

std::vector<TrialResult> run_experiment(const ExperimentPlan& plan, const RunOptions& options,
                                        const ProgressFn& progress,
                                        const std::atomic<bool>& cancel) {
  std::vector<TrialResult> results;
  std::mutex mutex;
  Progress state;
  state.total = plan.trials.size();
  // Longest predicted trial first: the sweep's last trials are not its slowest, so the run ends
  // when the slowest trial does rather than a slow trial's length after everything else.
  struct Planned {
    std::size_t index;
    double predicted_ms = 0;
    std::size_t requests = 1;
  };
  std::vector<Planned> order;
  for (std::size_t i = 0; i < plan.trials.size(); ++i) {
    Planned p{i};
    try {
      const PredictionInput in = prediction_input(plan.trials[i]);
      // The trial's wall time: the page load, then the hold (idle connections kept open).
      p.predicted_ms = predict(in, PredictionModel::tcp).page_load_ms +
                       plan.trials[i].scenario.experiment.hold_ms;
      p.requests = (in.resource_bytes.size() + 1) * plan.trials[i].scenario.client.users;
    } catch (const std::exception&) {  // measure() records the reason
    }
    order.push_back(p);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const Planned& a, const Planned& b) { return a.predicted_ms > b.predicted_ms; });
  const std::uint32_t slots = effective_parallelism(plan, options);
  Admission admission(slots, std::max(1u, std::thread::hardware_concurrency()) * 0.5);
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (;;) {
      const std::size_t n = next++;
      if (n >= order.size() || cancel.load()) return;
      const Planned& p = order[n];
      const double cpu = admission.cpu_ms_per_request() * static_cast<double>(p.requests);
      const double share = cpu / (cpu + p.predicted_ms);
      if (!admission.enter(share, cancel)) return;
      const std::size_t i = p.index;
      TrialResult r;
      try {
        r = measure(plan.trials[i], options, cancel);
      } catch (const std::exception& e) {  // a trial's failure is its own, never the run's
        r = result_of(plan.trials[i]);
        r.error = e.what();
      }
      admission.leave(share, r.error.empty() ? r.cpu_ms : 0, p.requests);
      if (r.cancelled) return;
      std::lock_guard lock(mutex);
      ++state.done;
      if (!r.error.empty()) ++state.failed;
      if (progress) progress(state, r);
      results.push_back(std::move(r));
    }
  };
  std::vector<std::thread> threads;
  for (std::uint32_t i = 0; i < slots; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  std::sort(results.begin(), results.end(),
            [](const TrialResult& a, const TrialResult& b) { return a.index < b.index; });
  return results;
}

}  // namespace satlink::simulator
