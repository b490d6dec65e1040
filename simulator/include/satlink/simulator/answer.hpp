// The answer in plain language: what a run's numbers say at one sweep point, in a few sentences
// (the GUI's answer card; the CLI prints it after its table). Computed from the results alone,
// so the same results always give the same text. docs/answer.md says how it decides.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "satlink/simulator/experiment.hpp"

namespace satlink::simulator {

struct Answer {
  std::string point;                   // the point's sweep values ("client_link.rtt_ms=600"), or ""
  std::vector<std::string> findings;   // one sentence each, measured differences first
  std::vector<std::string> predicted;  // the same comparisons by the analytic tcp and seed models
  std::vector<std::string> caveats;    // failed trials, no interval, comparisons not made
};

// Means over the successful repetitions of each mode at `point`. A difference whose 95 %
// intervals overlap is reported as within the noise, not as a saving.
Answer answer(const ExperimentPlan& plan, const std::vector<TrialResult>& results,
              std::uint32_t point);

// Paragraphs (findings; "Predicted: ..."; "Caveats: ..."), wrapped at `width` columns, ending
// with a newline.
std::string to_text(const Answer& a, std::size_t width = 100);

// The points a text report summarizes: every point when there are at most 3, else the first and
// the last (the table and summary.csv have them all).
std::vector<std::uint32_t> answer_points(std::uint32_t points);

// The sentences' units, locale-independent: "850 ms", "4.86 s", "11.6 s"; "512 B", "9.0 KiB";
// "−33 %", "+0.4 %"; "6", "5.93", "28.4" (three figures at most, no trailing zeros).
// `extra_digits` adds decimals (to tell apart values that print alike).
std::string format_duration(double ms, int extra_digits = 0);
std::string format_bytes(double bytes);
std::string format_percent(double percent);
std::string format_number(double v);

}  // namespace satlink::simulator
