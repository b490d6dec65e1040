#include "satlink/simulator/plan.hpp"

#include <stdexcept>

namespace satlink::simulator {

namespace {

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  Rng rng(a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL));
  return rng.next();
}

// Sweep points as the cartesian product of the axes, first axis outermost.
std::vector<std::vector<nlohmann::json>> points_of(const ExperimentSpec& e) {
  std::vector<std::vector<nlohmann::json>> points{{}};
  for (const SweepAxis& axis : e.sweep) {
    std::vector<std::vector<nlohmann::json>> next;
    for (const auto& p : points) {
      for (const auto& v : axis.values) {
        next.push_back(p);
        next.back().push_back(v);
      }
    }
    points = std::move(next);
  }
  return points;
}

}  // namespace

std::string Trial::label() const {
  std::string out(to_string(mode));
  for (std::size_t a = 0; a < sweep_values.size(); ++a)
    out += " " + scenario.experiment.sweep[a].path + "=" + sweep_values[a].dump();
  return out + " #" + std::to_string(repetition + 1);
}

std::string point_label(const ExperimentPlan& plan, std::uint32_t point) {
  std::string out;
  for (const Trial& t : plan.trials) {
    if (t.point != point) continue;
    for (std::size_t i = 0; i < t.sweep_values.size() && i < plan.sweep_paths.size(); ++i) {
      const auto& v = t.sweep_values[i];
      out += (out.empty() ? "" : ", ") + plan.sweep_paths[i] + "=" +
             (v.is_string() ? v.get<std::string>() : v.dump());
    }
    break;
  }
  return out;
}

ExperimentPlan plan_experiment(const Scenario& s) {
  ExperimentPlan plan;
  for (const SweepAxis& axis : s.experiment.sweep) plan.sweep_paths.push_back(axis.path);
  const auto points = points_of(s.experiment);
  plan.points = static_cast<std::uint32_t>(points.size());
  for (std::uint32_t p = 0; p < points.size(); ++p) {
    nlohmann::json doc = s.source;
    for (std::size_t a = 0; a < points[p].size(); ++a) {
      if (auto e = apply_override(doc, s.experiment.sweep[a].path, points[p][a]))
        throw std::invalid_argument(e->path + ": " + e->reason);
    }
    ScenarioResult loaded = load_scenario(doc);
    if (!loaded.ok())
      throw std::invalid_argument("sweep point " + std::to_string(p) + ": " +
                                  proxycore::format_errors(loaded.errors));
    for (std::uint32_t r = 0; r < s.experiment.repetitions; ++r) {
      const std::uint64_t seed = mix(mix(s.experiment.seed, p), r);
      for (Mode m : s.experiment.modes) {
        Trial t;
        t.index = static_cast<std::uint32_t>(plan.trials.size());
        t.mode = m;
        t.point = p;
        t.sweep_values = points[p];
        t.repetition = r;
        t.seed = seed;
        t.scenario = loaded.scenario;
        t.scenario.client_link.config.seed = seed;
        t.scenario.server_link.config.seed = seed + 1;
        plan.trials.push_back(std::move(t));
      }
    }
  }
  return plan;
}

}  // namespace satlink::simulator
