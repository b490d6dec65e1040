// One trial on real sockets: browser -> client link -> proxy -> server link -> origin (or, for
// the no-proxy baseline, browser -> client link -> server link -> origin), all on ephemeral
// 127.0.0.1 ports on one io_context, torn down completely before it returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "satlink/simulator/event_log.hpp"
#include "satlink/simulator/plan.hpp"
#include "satlink/simulator/replay.hpp"

namespace satlink::simulator {

struct TrialRun {
  std::vector<LogEvent> events;  // the whole log of the trial
  std::vector<ReplayRequest> requests;  // what each request id stands for
  std::string error;  // empty when every page load succeeded
  bool cancelled = false;
  std::int64_t wall_offset_ns = 0;  // system_clock - steady_clock, for wall-clock timestamps
};

// Blocks until the trial ends (done, failed, timed out, or `cancel` became true).
TrialRun run_trial(const Trial& trial, const std::atomic<bool>& cancel);

}  // namespace satlink::simulator
