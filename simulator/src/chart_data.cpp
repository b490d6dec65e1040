#include "satlink/simulator/chart_data.hpp"

#include <map>

namespace satlink::simulator {

namespace {

std::vector<const TrialResult*> trials_of(const std::vector<TrialResult>& results, Mode mode,
                                          std::uint32_t point) {
  std::vector<const TrialResult*> out;
  for (const TrialResult& r : results)
    if (r.mode == mode && r.point == point && r.error.empty()) out.push_back(&r);
  return out;
}

std::vector<Mode> modes_in(const std::vector<TrialResult>& results) {
  std::vector<Mode> modes;
  for (const TrialResult& r : results)
    if (std::find(modes.begin(), modes.end(), r.mode) == modes.end()) modes.push_back(r.mode);
  return modes;
}

double mean_of(const std::vector<const TrialResult*>& trials, double (*get)(const TrialResult&)) {
  std::vector<double> v;
  for (const TrialResult* t : trials) v.push_back(get(*t));
  return aggregate(v).mean;
}

Aggregate load_of(const std::vector<const TrialResult*>& trials) {
  std::vector<double> v;
  for (const TrialResult* t : trials)
    if (t->metrics.page_load_ms >= 0) v.push_back(t->metrics.page_load_ms);
  return aggregate(v);
}

std::string value_text(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

std::vector<ModeBar> comparison(const std::vector<TrialResult>& results, std::uint32_t point) {
  std::vector<ModeBar> bars;
  for (Mode m : modes_in(results)) {
    auto trials = trials_of(results, m, point);
    if (trials.empty()) continue;
    bars.push_back({m, load_of(trials),
                    mean_of(trials, [](const TrialResult& t) { return t.predicted_tcp.page_load_ms; }),
                    mean_of(trials, [](const TrialResult& t) { return t.predicted_seed.page_load_ms; })});
  }
  return bars;
}

std::vector<Breakdown> breakdown(const std::vector<TrialResult>& results, std::uint32_t point) {
  std::vector<Breakdown> out;
  for (Mode m : modes_in(results)) {
    auto trials = trials_of(results, m, point);
    if (trials.empty()) continue;
    Breakdown b;
    b.mode = m;
    for (const TrialResult* t : trials) {
      const double load = std::max(0.0, t->metrics.page_load_ms);
      const double client = std::min(load, t->metrics.client_setup_critical_ms);
      const double server = std::min(load - client, t->metrics.server_setup_critical_ms);
      // Set-up comes from the links' spans above; the requests' connect is not added here,
      // and ssl/wait no longer hold the client link's handshake (request_metrics moved it to
      // connect), so the rest is split without counting the set-up twice.
      double ssl = 0, wait = 0, receive = 0;
      for (const RequestMetrics& q : t->requests) {
        ssl += std::max(0.0, q.ssl_ms);
        wait += std::max(0.0, q.wait_ms);
        receive += std::max(0.0, q.receive_ms);
      }
      const double rest = load - client - server;
      const double total = ssl + wait + receive;
      const double n = static_cast<double>(trials.size());
      b.client_setup_ms += client / n;
      b.server_setup_ms += server / n;
      if (total > 0) {
        b.tls_ms += rest * ssl / total / n;
        b.waiting_ms += rest * wait / total / n;
        b.transfer_ms += rest * receive / total / n;
      } else {
        b.waiting_ms += rest / n;
      }
    }
    out.push_back(b);
  }
  return out;
}

Sweep sweep(const ExperimentPlan& plan, const std::vector<TrialResult>& results) {
  Sweep s;
  if (plan.sweep_paths.empty()) return s;
  s.x_label = plan.sweep_paths[0];
  // The first axis's values in plan order, and whether they are all numbers.
  std::vector<nlohmann::json> xs;
  for (const Trial& t : plan.trials)
    if (std::find(xs.begin(), xs.end(), t.sweep_values[0]) == xs.end()) xs.push_back(t.sweep_values[0]);
  for (const auto& x : xs) {
    s.x_ticks.push_back(value_text(x));
    s.numeric = s.numeric && x.is_number();
  }
  // Lines: mode x (second axis value), points keyed by the first axis.
  std::map<std::pair<Mode, std::string>, std::map<std::size_t, std::vector<const TrialResult*>>> groups;
  for (const TrialResult& r : results) {
    if (!r.error.empty() || r.sweep_values.empty()) continue;
    const std::string second =
        r.sweep_values.size() > 1 ? plan.sweep_paths[1] + "=" + value_text(r.sweep_values[1]) : "";
    const auto xi = static_cast<std::size_t>(
        std::find(xs.begin(), xs.end(), r.sweep_values[0]) - xs.begin());
    groups[{r.mode, second}][xi].push_back(&r);
  }
  for (const auto& [key, points] : groups) {
    SweepLine line;
    line.mode = key.first;
    line.label = std::string(to_string(key.first)) + (key.second.empty() ? "" : ", " + key.second);
    for (const auto& [xi, trials] : points) {
      line.x.push_back(s.numeric ? xs[xi].get<double>() : static_cast<double>(xi));
      line.measured_ms.push_back(load_of(trials));
      line.predicted_tcp_ms.push_back(
          mean_of(trials, [](const TrialResult& t) { return t.predicted_tcp.page_load_ms; }));
    }
    s.lines.push_back(std::move(line));
  }
  return s;
}

std::vector<WaterfallRow> waterfall(const TrialResult& r) {
  std::vector<WaterfallRow> rows;
  if (r.requests.empty()) return rows;
  std::map<std::uint64_t, std::string> targets;
  for (const auto& t : r.targets) targets[t.id] = t.target;
  const std::int64_t t0 = r.requests.front().queued_ns;
  for (const RequestMetrics& q : r.requests) {
    WaterfallRow row;
    row.label = "#" + std::to_string(q.request) + " " + targets[q.request] + " (c" +
                std::to_string(q.connection) + (q.reused ? ", reused)" : ")");
    row.start_ms = static_cast<double>(q.queued_ns - t0) / 1e6;
    row.blocked_ms = std::max(0.0, q.blocked_ms);
    row.ssl_ms = std::max(0.0, q.ssl_ms);
    row.connect_ms = std::max(0.0, q.connect_ms - row.ssl_ms);  // HAR's connect includes ssl
    row.send_ms = std::max(0.0, q.send_ms);
    row.wait_ms = std::max(0.0, q.wait_ms);
    row.receive_ms = std::max(0.0, q.receive_ms);
    row.failed = q.failed();
    rows.push_back(std::move(row));
  }
  return rows;
}

const TrialResult* representative(const std::vector<TrialResult>& results, Mode mode,
                                  std::uint32_t point) {
  const TrialResult* any = nullptr;
  for (const TrialResult& r : results) {
    if (r.mode != mode || r.point != point) continue;
    if (r.error.empty()) return &r;
    if (!any) any = &r;
  }
  return any;
}

}  // namespace satlink::simulator
