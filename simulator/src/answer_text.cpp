// The answer's units and paragraphs: numbers as people read them, wrapped for a terminal.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>

#include "satlink/simulator/answer.hpp"

namespace satlink::simulator {

namespace {

const std::string kMinus = "\u2212";  // the typographic minus of the docs' tables

// std::to_chars, not printf: the GUI sets the process locale, the text must not follow it.
std::string fixed(double v, int decimals) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  std::string s(buf, r.ptr);
  if (s.front() == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::size_t columns(std::string_view s) {  // UTF-8 code points, not bytes
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// A unit never starts a line: "33 %" and "4.86 s" stay together.
bool is_unit(std::string_view word) {
  const std::string_view core = word.substr(0, word.find_first_of(",.;:)"));
  for (std::string_view u : {"%", "ms", "s", "B", "KiB", "MiB", "GiB", "TiB"})
    if (core == u) return true;
  return false;
}

std::string wrap(const std::string& paragraph, std::size_t width) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start <= paragraph.size()) {
    const auto end = std::min(paragraph.find(' ', start), paragraph.size());
    std::string word = paragraph.substr(start, end - start);
    if (!words.empty() && is_unit(word))
      words.back() += " " + word;
    else if (!word.empty())
      words.push_back(std::move(word));
    start = end + 1;
  }
  std::string out, line;
  for (const auto& w : words) {
    if (!line.empty() && columns(line) + 1 + columns(w) > width) {
      out += line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + w;
  }
  return out + line + "\n";
}

std::string joined(const std::vector<std::string>& sentences) {
  std::string out;
  for (const auto& s : sentences) out += (out.empty() ? "" : " ") + s;
  return out;
}

}  // namespace

std::string format_duration(double ms, int extra_digits) {
  const std::string sign = ms < 0 ? kMinus : "";
  const double a = std::abs(ms);
  if (a < 999.5) return sign + fixed(a, (a < 9.95 ? 1 : 0) + extra_digits) + " ms";
  const double s = a / 1000;
  return sign + fixed(s, (s < 9.995 ? 2 : s < 99.95 ? 1 : 0) + extra_digits) + " s";
}

std::string format_bytes(double bytes) {
  if (bytes < 1023.5) return fixed(std::max(0.0, bytes), 0) + " B";
  static const char* const units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = bytes / 1024;
  std::size_t u = 0;
  for (; v >= 1023.5 && u + 1 < std::size(units); ++u) v /= 1024;
  return fixed(v, v < 9.95 ? 1 : 0) + " " + units[u];
}

std::string format_percent(double percent) {
  const double a = std::abs(percent);
  const std::string digits = fixed(a, a >= 0.95 ? 0 : a >= 0.095 ? 1 : 2);
  if (digits.find_first_not_of("0.") == std::string::npos) return "0 %";
  return (percent < 0 ? kMinus : "+") + digits + " %";
}

std::string format_number(double v) {
  const double a = std::abs(v);
  // Three significant figures, so a small mean (0.004 connections) does not print as 0.
  int decimals = 2;
  if (a >= 99.5)
    decimals = 0;
  else if (a >= 9.95)
    decimals = 1;
  else if (a > 0 && a < 0.995)
    decimals = std::min(6, 2 - static_cast<int>(std::floor(std::log10(a))));
  std::string s = fixed(v, decimals);
  if (s.find('.') != std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

std::vector<std::uint32_t> answer_points(std::uint32_t points) {
  if (points > 3) return {0, points - 1};
  std::vector<std::uint32_t> out;
  for (std::uint32_t p = 0; p < points; ++p) out.push_back(p);
  return out;
}

std::string to_text(const Answer& a, std::size_t width) {
  std::string out = wrap(joined(a.findings), width);
  if (!a.predicted.empty()) out += "\n" + wrap("Predicted: " + joined(a.predicted), width);
  if (!a.caveats.empty()) out += "\n" + wrap("Caveats: " + joined(a.caveats), width);
  return out;
}

}  // namespace satlink::simulator
