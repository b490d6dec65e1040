// What satlink-cli's commands share: exit codes, usage errors, numbers and scenario loading.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "satlink/simulator/scenario.hpp"

namespace satlink::cli {

constexpr int kOk = 0, kRunFailed = 1, kUsage = 2;

// Prints the message with a pointer to --help; returns kUsage.
int usage_error(const std::string& message);
std::optional<std::uint32_t> parse_count(const std::string& s, std::uint32_t lo, std::uint32_t hi);
// A command's positional argument: the one scenario file. An error for an unknown option or a
// second file.
std::optional<std::string> take_scenario(const std::string& arg, std::string& scenario);
// The file, with --set overrides and then `patch` applied to its JSON, loaded; errors are
// printed, and nullopt means exit kUsage.
std::optional<simulator::Scenario> load_for_command(
    const std::string& file, const std::vector<std::string>& sets,
    const std::function<void(nlohmann::json&)>& patch);

// Trials and the live testbed hold many sockets: the soft RLIMIT_NOFILE goes up to the hard one.
void raise_open_file_limit();

int serve(const std::vector<std::string>& args);

}  // namespace satlink::cli
