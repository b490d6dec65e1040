// A scenario: one keep-alive question as a file. The testbed's parts (links, proxy, origin,
// page, browser) and the experiment (modes, sweep, repetitions). Loaded from versioned JSON
// ("satlink_scenario": 1) with errors that name the JSON path and the reason, all at once.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "satlink/proxycore/config.hpp"
#include "satlink/proxycore/config_json.hpp"
#include "satlink/simulator/link_config.hpp"
#include "satlink/simulator/origin.hpp"
#include "satlink/simulator/page.hpp"

namespace satlink::simulator {

using ScenarioError = proxycore::ConfigError;  // {path, reason}

// The keep-alive combinations, named as HAProxy and nginx users know them (docs/scenarios.md).
enum class Mode : std::uint8_t {
  no_proxy,      // baseline: the browser talks to the origin through both links
  keep_alive,    // client on, server on   (HAProxy http-keep-alive; nginx upstream keepalive)
  server_close,  // client on, server off  (HAProxy http-server-close)
  close,         // client off, server off (HAProxy httpclose; nginx keepalive_timeout 0)
  client_close,  // client off, server on  (nginx keepalive_timeout 0 + upstream keepalive)
};
std::string_view to_string(Mode m);
bool parse(std::string_view s, Mode& out);
const std::vector<Mode>& all_modes();
struct ModeSides {
  bool proxy = true;
  bool client_keep_alive = true;
  bool server_keep_alive = true;
};
ModeSides sides(Mode m);

struct LinkSpec {
  std::string preset;  // "" = none; the preset's values first, explicit fields on top
  LinkConfig config;
};

struct OriginSpec {
  OriginKeepAlive keep_alive;
  ThinkTime think;
  std::string memory_model = "nginx";
  std::uint32_t max_connections = 0;
  bool tls = false;
  TlsVersion tls_version = TlsVersion::v1_3;
};

struct ClientSpec {
  std::uint32_t connections_per_host = 6;
  bool keep_alive = true;
  bool http10 = false;  // "http_version": "1.0" or "1.1"
  std::uint32_t pipelining = 1;
  std::uint32_t users = 1;
};

// Resources made up from a count and a size range (seeded by the experiment's seed).
struct PageGenerator {
  std::uint32_t count = 0;
  std::uint64_t min_bytes = 0;
  std::uint64_t max_bytes = 0;
};

struct SweepAxis {
  std::string path;                   // a JSON path into the scenario, e.g. "client_link.rtt_ms"
  std::vector<nlohmann::json> values;  // given, or expanded from from/to/step
};

struct ExperimentSpec {
  std::vector<Mode> modes = all_modes();
  std::vector<SweepAxis> sweep;  // at most two axes
  std::uint32_t repetitions = 3;
  std::uint64_t seed = 1;
  std::uint32_t parallelism = 0;  // trials at once; 0 = automatic
  double trial_timeout_ms = 120000;
  // After the page loads, keep the testbed up this long: idle keep-alive connections stay open
  // (and cost the origin memory) until their timeouts, as they would in production.
  double hold_ms = 0;
};

struct Scenario {
  std::string name;
  std::string description;
  LinkSpec client_link;
  LinkSpec server_link;
  proxycore::ProxyConfig proxy;  // the testbed sets its listener, backend and keep-alive per mode
  OriginSpec origin;
  Page page;
  PageGenerator generator;  // when count > 0 the page's resources are generated
  ClientSpec client;
  ExperimentSpec experiment;
  nlohmann::json source;  // the document it was loaded from (overrides apply to it)
};

struct ScenarioResult {
  Scenario scenario;
  std::vector<ScenarioError> errors;
  bool ok() const { return errors.empty(); }
};

ScenarioResult load_scenario(const nlohmann::json& doc);
ScenarioResult load_scenario_file(const std::string& file);

// `--set PATH=VALUE`: VALUE is JSON when it parses as JSON, else a string. Missing objects on the
// way are created; an error names the path when it cannot be applied.
std::optional<ScenarioError> apply_override(nlohmann::json& doc, std::string_view path,
                                            const nlohmann::json& value);
std::optional<ScenarioError> apply_override(nlohmann::json& doc, std::string_view assignment);
nlohmann::json parse_override_value(std::string_view text);

// The page the origin serves: the given resources, or the generator's (deterministic).
Page resolved_page(const Scenario& s);

}  // namespace satlink::simulator
