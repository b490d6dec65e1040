// An experiment expanded into trials: modes × sweep points × repetitions, each trial a complete
// scenario (overrides applied) with its own seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "satlink/simulator/scenario.hpp"

namespace satlink::simulator {

struct Trial {
  std::uint32_t index = 0;  // 0-based, in plan order
  Mode mode = Mode::keep_alive;
  std::uint32_t point = 0;  // sweep point (0 without a sweep)
  std::vector<nlohmann::json> sweep_values;  // one per axis
  std::uint32_t repetition = 0;
  // The same for every mode of a point and repetition: modes are compared on the same random
  // draws (common random numbers), so their difference is the mode's, not the dice's.
  std::uint64_t seed = 0;
  Scenario scenario;  // the sweep values applied; links and origin seeded from `seed`

  std::string label() const;  // "keep-alive client_link.rtt_ms=600 #2"
};

struct ExperimentPlan {
  std::vector<std::string> sweep_paths;
  std::uint32_t points = 1;
  std::vector<Trial> trials;  // point-major, then repetition, then mode
};

// The scenario must have loaded without errors (its sweep values are checked by the loader).
ExperimentPlan plan_experiment(const Scenario& s);

// A sweep point as people read it: "client_link.rtt_ms=600, client.users=10" (strings
// unquoted); "" without a sweep or when the plan has no trial at the point.
std::string point_label(const ExperimentPlan& plan, std::uint32_t point);

}  // namespace satlink::simulator
