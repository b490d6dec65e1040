// Loading and validating the proxy configuration from JSON (the daemon's --config file and a
// scenario's `proxy` section share this shape). Unknown keys are errors; all errors are reported
// at once, each with its JSON path.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "satlink/proxycore/config.hpp"

namespace satlink::proxycore {

struct ConfigError {
  std::string path;    // e.g. "backends[0].servers[1].port"
  std::string reason;  // e.g. "must be an integer in 1..65535, got \"http\""
};

struct ConfigResult {
  ProxyConfig config;
  std::vector<ConfigError> errors;
  bool ok() const { return errors.empty(); }
};

ConfigResult proxy_config_from_json(const nlohmann::json& j, const std::string& base_path = "");
// Reads and parses a file; parse errors are reported with line and column.
ConfigResult proxy_config_from_file(const std::string& file);
nlohmann::json proxy_config_to_json(const ProxyConfig& c);
std::string format_errors(const std::vector<ConfigError>& errors);

}  // namespace satlink::proxycore
