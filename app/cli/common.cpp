#include "common.hpp"

#include <sys/resource.h>

#include <iostream>

#include "satlink/proxycore/json_reader.hpp"

namespace satlink::cli {

namespace sim = satlink::simulator;

int usage_error(const std::string& message) {
  std::cerr << "satlink-cli: " << message << "\n(satlink-cli --help for usage)\n";
  return kUsage;
}

std::optional<std::uint32_t> parse_count(const std::string& s, std::uint32_t lo, std::uint32_t hi) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9)
    return std::nullopt;
  const auto v = static_cast<std::uint32_t>(std::stoul(s));
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);  // best effort: the engine sizes its parallelism to what is
}

std::optional<std::string> take_scenario(const std::string& arg, std::string& scenario) {
  if (!arg.empty() && arg[0] == '-') return "unknown option " + arg;
  if (!scenario.empty()) return "one scenario at a time (got '" + scenario + "' and '" + arg + "')";
  scenario = arg;
  return std::nullopt;
}

// The scenario file with --set overrides applied (and `patch` for options that stand for a
// field), loaded; errors are printed, and nullopt means exit 2.
std::optional<sim::Scenario> load_for_command(const std::string& file,
                                              const std::vector<std::string>& sets,
                                              const std::function<void(nlohmann::json&)>& patch) {
  std::vector<satlink::proxycore::ConfigError> errors;
  auto doc = satlink::proxycore::json_reader::read_json_file(file, errors);
  if (!doc) {
    std::cerr << file << ": " << errors.front().reason << "\n";
    return std::nullopt;
  }
  for (const auto& s : sets) {
    if (auto e = sim::apply_override(*doc, s)) {
      std::cerr << "--set " << s << ": " << e->path << ": " << e->reason << "\n";
      return std::nullopt;
    }
  }
  if (patch) patch(*doc);
  auto loaded = sim::load_scenario(*doc);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors)
      std::cerr << file << ": " << (e.path.empty() ? "(root)" : e.path) << ": " << e.reason
                << "\n";
    return std::nullopt;
  }
  return std::move(loaded.scenario);
}

}  // namespace satlink::cli
