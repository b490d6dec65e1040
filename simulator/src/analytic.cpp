// The analytic prediction's small pieces: the models' names and handshakes, the slow-start
// window and slow_start_rounds. The page load itself is replayed in analytic_page.cpp.
#include "satlink/simulator/analytic.hpp"

#include "analytic_model.hpp"

namespace satlink::simulator {

namespace analytic_detail {

std::uint32_t Window::send(std::uint64_t bytes, double t_ms, const Path& p) {
  if (!p.slow_start) return 1;
  if (cwnd == 0 || (p.restart_after_idle && t_ms - last_round_ms > p.rto_ms())) {
    cwnd = p.initial_window_bytes;
    sent_in_round = 0;
  }
  std::uint32_t rounds = 0;
  std::uint64_t left = bytes;
  do {  // a round starts when the previous one's ACKs are back: they grow the window
    cwnd = std::min(cwnd + sent_in_round, std::max(cwnd, p.max_window()));
    sent_in_round = std::min(left, cwnd);
    left -= sent_in_round;
    ++rounds;
  } while (left > 0);
  last_round_ms = t_ms + (rounds - 1) * p.rtt_ms;
  return rounds;
}

}  // namespace analytic_detail

double handshake_rtts(PredictionModel model) {
  return model == PredictionModel::seed ? 1.5 : 1.0;
}

std::string_view to_string(PredictionModel model) {
  return model == PredictionModel::seed ? "seed" : "tcp";
}

bool parse(std::string_view s, PredictionModel& out) {
  for (auto m : {PredictionModel::seed, PredictionModel::tcp})
    if (s == to_string(m)) return out = m, true;
  return false;
}

std::uint32_t slow_start_rounds(std::uint64_t bytes, std::uint32_t initial_window,
                                std::uint32_t mss) {
  analytic_detail::Path p;
  p.slow_start = true;
  p.initial_window_bytes =
      std::uint64_t{std::max<std::uint32_t>(initial_window, 1)} * std::max<std::uint32_t>(mss, 1);
  return analytic_detail::Window{}.send(bytes, 0, p);
}

}  // namespace satlink::simulator
