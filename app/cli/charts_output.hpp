// satlink-cli's bridge to the Qt chart library: a QApplication on the offscreen platform when
// there is no display, then every chart of the run.
#pragma once

#include <string>
#include <vector>

#include "satlink/simulator/experiment.hpp"

namespace satlink::cli {

// `formats` is a subset of {"png", "svg", "pdf"}. Returns the files written; throws
// std::runtime_error when a chart cannot be written (naming the file and why).
std::vector<std::string> write_charts(const std::string& dir, const simulator::Scenario& scenario,
                                      const simulator::ExperimentPlan& plan,
                                      const std::vector<simulator::TrialResult>& results,
                                      const std::vector<std::string>& formats);

}  // namespace satlink::cli
