// Loads a scenario file. One field table per struct drives reading, writing and the allowed keys
// (proxycore's json_reader); sections with rules of their own (link presets, the proxy section,
// the sweep) are read by small functions. Every error names its path; all are reported at once.
#include <cmath>
#include <set>

#include "satlink/proxycore/json_reader.hpp"
#include "satlink/simulator/scenario.hpp"

namespace satlink::simulator {
namespace scenario_json {

using namespace proxycore::json_reader;

constexpr double kMaxMs = 3'600'000;  // an hour: longer delays or timeouts are surely typos
constexpr double kMaxRate = 1e12;     // 1 Tbit/s
constexpr std::array kDistributions{JitterDistribution::uniform, JitterDistribution::normal,
                                    JitterDistribution::pareto};
constexpr std::array kSetups{SetupModel::tcp, SetupModel::seed, SetupModel::none};
constexpr std::array kRetransmits{Retransmit::fast, Retransmit::rto};
constexpr std::array kTlsVersions{TlsVersion::v1_2, TlsVersion::v1_3};

constexpr std::array kJitter{
    choice<&Jitter::distribution, kDistributions>("distribution"),
    decimal<&Jitter::ms, 0.0, kMaxMs>("ms"),
    decimal<&Jitter::pareto_shape, 1.01, 100.0>("pareto_shape"),
};
constexpr std::array kLoss{
    decimal<&Loss::rate, 0.0, 1.0>("rate"),
    decimal<&Loss::burst_enter, 0.0, 1.0>("burst_enter"),
    decimal<&Loss::burst_exit, 0.001, 1.0>("burst_exit"),
    decimal<&Loss::burst_rate, 0.0, 1.0>("burst_rate"),
};
constexpr std::array kDirection{
    decimal<&Direction::delay_ms, 0.0, kMaxMs>("delay_ms"),
    nested<&Direction::jitter, kJitter>("jitter"),
    decimal<&Direction::rate_bps, 0.0, kMaxRate>("rate_bps"),
    number<&Direction::queue_bytes, 0, 1ULL << 40>("queue_bytes"),
    nested<&Direction::loss, kLoss>("loss"),
};
constexpr std::array kSlowStart{
    flag<&SlowStart::enabled>("enabled"),
    number<&SlowStart::initial_window, 1, 1000>("initial_window"),
    flag<&SlowStart::restart_after_idle>("restart_after_idle"),
};
constexpr std::array kDelayPoint{
    decimal<&DelayPoint::t_ms, 0.0, 1e9>("t_ms"),
    decimal<&DelayPoint::delay_ms, 0.0, kMaxMs>("delay_ms"),
};
constexpr Field<DelaySchedule> kPointsField{
    "points",
    [](Reader& r, const json& v, DelaySchedule& s) {
      r.each(v, "points ({\"t_ms\", \"delay_ms\"})", [&](const json& p, std::size_t i) {
        DelayPoint point;
        r.object(p, point, kDelayPoint);
        if (i > 0 && point.t_ms <= s.points.back().t_ms) r.fail("t_ms must increase from point to point");
        s.points.push_back(point);
      });
    },
    [](const DelaySchedule& s) {
      json out = json::array();
      for (const auto& p : s.points) out.push_back(write_object(p, kDelayPoint));
      return out;
    }};
constexpr std::array kSchedule{
    kPointsField,
    decimal<&DelaySchedule::repeat_ms, 0.0, 1e9>("repeat_ms"),
};
constexpr std::array kLink{
    nested<&LinkConfig::up, kDirection>("up"),
    nested<&LinkConfig::down, kDirection>("down"),
    choice<&LinkConfig::setup, kSetups>("setup"),
    nested<&LinkConfig::slow_start, kSlowStart>("slow_start"),
    choice<&LinkConfig::retransmit, kRetransmits>("retransmit"),
    number<&LinkConfig::mss, 100, 65535>("mss"),
    number<&LinkConfig::window_bytes, 1024, 1ULL << 32>("window_bytes"),
    nested<&LinkConfig::schedule, kSchedule>("schedule"),
    number<&LinkConfig::seed, 0, kMaxU64>("seed"),
};

constexpr std::array kThink{
    decimal<&ThinkTime::ms, 0.0, kMaxMs>("ms"),
    nested<&ThinkTime::jitter, kJitter>("jitter"),
};
constexpr std::array kOriginKeepAlive{
    flag<&OriginKeepAlive::enabled>("enabled"),
    decimal<&OriginKeepAlive::timeout_ms, 0.0, kMaxMs>("timeout_ms"),
    number<&OriginKeepAlive::max_requests, 0, kMaxU32>("max_requests"),
};
inline const char* known_memory_model(std::string_view s) {
  return find_memory_model(s) ? nullptr : "must be one of \"nginx\", \"haproxy\", \"apache-prefork\"";
}
// "keep_alive": a preset name ("nginx", "apache", "off") or an object.
constexpr Field<OriginSpec> kOriginKeepAliveField{
    "keep_alive",
    [](Reader& r, const json& v, OriginSpec& o) {
      if (v.is_string()) {
        if (const auto* p = find_origin_keep_alive_preset(v.get_ref<const std::string&>())) {
          o.keep_alive = p->keep_alive;
        } else {
          r.fail("must be an object or a preset (\"nginx\", \"apache\", \"off\"), got " + describe(v));
        }
        return;
      }
      r.object(v, o.keep_alive, kOriginKeepAlive);
    },
    [](const OriginSpec& o) { return write_object(o.keep_alive, kOriginKeepAlive); }};
constexpr std::array kOrigin{
    kOriginKeepAliveField,
    nested<&OriginSpec::think, kThink>("think"),
    text<&OriginSpec::memory_model, known_memory_model>("memory_model"),
    number<&OriginSpec::max_connections, 0, 1'000'000>("max_connections"),
    flag<&OriginSpec::tls>("tls"),
    choice<&OriginSpec::tls_version, kTlsVersions>("tls_version"),
};

constexpr std::array kResource{
    text<&Resource::path, non_empty>("path"),
    text<&Resource::content_type, non_empty>("type"),
    number<&Resource::size, 0, kMaxResourceSize>("size"),
};
constexpr std::array kGenerator{
    number<&PageGenerator::count, 0, 1000>("count"),
    number<&PageGenerator::min_bytes, 0, kMaxResourceSize>("min_bytes"),
    number<&PageGenerator::max_bytes, 0, kMaxResourceSize>("max_bytes"),
};

inline const char* http_version(std::string_view s) {
  return s == "1.0" || s == "1.1" ? nullptr : "must be \"1.0\" or \"1.1\"";
}
constexpr Field<ClientSpec> kHttpVersionField{
    "http_version",
    [](Reader& r, const json& v, ClientSpec& c) {
      if (auto s = r.string(v, http_version)) c.http10 = *s == "1.0";
    },
    [](const ClientSpec& c) { return json(c.http10 ? "1.0" : "1.1"); }};
constexpr std::array kClient{
    number<&ClientSpec::connections_per_host, 1, 64>("connections_per_host"),
    flag<&ClientSpec::keep_alive>("keep_alive"),
    kHttpVersionField,
    number<&ClientSpec::pipelining, 1, 64>("pipelining"),
    number<&ClientSpec::users, 1, 10'000>("users"),
};

constexpr std::array kExperiment{
    number<&ExperimentSpec::repetitions, 1, 1000>("repetitions"),
    number<&ExperimentSpec::seed, 0, kMaxU64>("seed"),
    number<&ExperimentSpec::parallelism, 0, 256>("parallelism"),
    decimal<&ExperimentSpec::trial_timeout_ms, 100.0, kMaxMs>("trial_timeout_ms"),
    decimal<&ExperimentSpec::hold_ms, 0.0, kMaxMs>("hold_ms"),
};  // + "modes" and "sweep"

constexpr std::array kScenario{
    text<&Scenario::name, any_text>("name"),
    text<&Scenario::description, any_text>("description"),
    nested<&Scenario::origin, kOrigin>("origin"),
    nested<&Scenario::client, kClient>("client"),
};  // + satlink_scenario, client_link, server_link, proxy, page, experiment

}  // namespace scenario_json
}  // namespace satlink::simulator

namespace satlink::simulator {
namespace scenario_json {

class ScenarioReader : public Reader {
 public:
  using Reader::Reader;
  void read_root(const json& root, Scenario& s, bool with_sweep);

 private:
  void read_link(const json& v, LinkSpec& link);
  void read_proxy(const json& v, proxycore::ProxyConfig& proxy);
  void read_page(const json& v, Scenario& s);
  void read_experiment(const json& v, ExperimentSpec& e);
  void read_sweep(const json& v, ExperimentSpec& e);
};

// "preset" first, then "rtt_ms" (half each way), then explicit fields on top.
void ScenarioReader::read_link(const json& v, LinkSpec& link) {
  if (!v.is_object()) return fail("must be an object, got " + describe(v));
  field(v, "preset", [&](const json& p) {
    auto name = string(p, non_empty);
    if (!name) return;
    if (const LinkPreset* preset = find_link_preset(*name)) {
      link.preset = *name;
      link.config = preset->config;
      return;
    }
    std::string names;
    for (const auto& known : link_presets()) names += (names.empty() ? "" : ", ") + quote(known.id);
    fail("unknown preset " + quote(*name) + " (known: " + names + ")");
  });
  field(v, "rtt_ms", [&](const json& r) {
    if (auto rtt = real(r, 0.0, 2 * kMaxMs)) link.config.up.delay_ms = link.config.down.delay_ms = *rtt / 2;
  });
  object(v, link.config, kLink, {"preset", "rtt_ms"});
}

// The proxy section has the shape of satlink-proxy's config, minus what the testbed wires:
// the listener, the backends and the keep-alive switches the mode sets.
void ScenarioReader::read_proxy(const json& v, proxycore::ProxyConfig& proxy) {
  if (!v.is_object()) return fail("must be an object, got " + describe(v));
  json doc = v;
  for (std::string_view key : {"backends", "routes", "default_backend"}) {
    if (!doc.contains(key)) continue;
    Segment k = enter(key);
    fail("is set by the testbed (the proxy's one backend is the server link); remove it");
    doc.erase(std::string(key));
  }
  doc["backends"] = json::array({{{"name", "origin"}, {"servers", json::array({{{"port", 1}}})}}});
  auto loaded = proxycore::proxy_config_from_json(doc, path());
  for (auto& e : loaded.errors) fail_at(e.path, e.reason);
  proxy = std::move(loaded.config);
}

void ScenarioReader::read_page(const json& v, Scenario& s) {
  if (!object(v, s.page, std::array{text<&Page::path, non_empty>("path"),
                                    number<&Page::html_size, 0, kMaxHtmlSize>("html_size")},
              {"resources", "generate"}))
    return;
  field(v, "resources", [&](const json& list) {
    each(list, "resources ({\"path\", \"type\", \"size\"})", [&](const json& rv, std::size_t) {
      Resource res;
      if (!object(rv, res, kResource, {"think"})) return;
      for (std::string_view key : {"path", "type", "size"}) {
        if (rv.contains(key)) continue;
        Segment k = enter(key);
        fail("is required");
      }
      field(rv, "think", [&](const json& t) {
        ThinkTime think;
        object(t, think, kThink);
        res.think = think;
      });
      s.page.resources.push_back(std::move(res));
    });
  });
  field(v, "generate", [&](const json& g) {
    if (!object(g, s.generator, kGenerator)) return;
    if (s.generator.max_bytes < s.generator.min_bytes) fail("max_bytes must be >= min_bytes");
    if (v.contains("resources")) fail("give either resources or generate, not both");
  });
  if (s.generator.count > 0) s.page = resolved_page(s);
  for (const std::string& problem : validate(s.page)) fail(problem);
}

void ScenarioReader::read_experiment(const json& v, ExperimentSpec& e) {
  if (!object(v, e, kExperiment, {"modes", "sweep"})) return;
  field(v, "modes", [&](const json& list) {
    e.modes.clear();
    std::set<Mode> seen;
    each(list, "modes", [&](const json& m, std::size_t) {
      auto mode = choice(m, std::array{Mode::no_proxy, Mode::keep_alive, Mode::server_close,
                                       Mode::close, Mode::client_close});
      if (mode && !seen.insert(*mode).second) fail("duplicate mode " + describe(m));
      if (mode) e.modes.push_back(*mode);
    });
    if (list.is_array() && list.empty()) fail("must name at least one mode");
  });
  field(v, "sweep", [&](const json& list) { read_sweep(list, e); });
}

void ScenarioReader::read_sweep(const json& list, ExperimentSpec& e) {
  each(list, "sweep axes ({\"path\", \"values\"} or {\"path\", \"from\", \"to\", \"step\"})",
       [&](const json& a, std::size_t) {
         SweepAxis axis;
         struct Range {
           double from = 0, to = 0, step = 0;
         } range;
         constexpr std::array kRange{decimal<&Range::from, -1e12, 1e12>("from"),
                                     decimal<&Range::to, -1e12, 1e12>("to"),
                                     decimal<&Range::step, 1e-9, 1e12>("step")};
         if (!object(a, range, kRange, {"path", "values"})) return;
         field(a, "path", [&](const json& p) {
           if (auto s = string(p, non_empty)) axis.path = *s;
         });
         if (!a.contains("path")) fail("path is required");
         field(a, "values", [&](const json& values) {
           if (!values.is_array() || values.empty()) return fail("must be a non-empty array");
           axis.values.assign(values.begin(), values.end());
         });
         const int given = a.contains("from") + a.contains("to") + a.contains("step");
         if ((given > 0) == a.contains("values")) return fail("give either values or from, to and step");
         if (given > 0 && given < 3) return fail("a range needs all of from, to and step");
         if (given == 3) {
           const double n = std::floor((range.to - range.from) / range.step + 1e-9);
           if (!(n >= 0 && n <= 1000)) return fail("from, to and step must give 1..1001 points");
           for (int i = 0; i <= static_cast<int>(n); ++i) {
             const double v = range.from + i * range.step;
             // Whole numbers stay integers, so integer fields (connections, users) can be swept.
             if (v == std::floor(v) && std::fabs(v) < 1e15) {
               axis.values.push_back(static_cast<std::int64_t>(v));
             } else {
               axis.values.push_back(v);
             }
           }
         }
         for (const SweepAxis& other : e.sweep)
           if (!axis.path.empty() && other.path == axis.path) return fail("path " + quote(axis.path) + " is swept twice");
         e.sweep.push_back(std::move(axis));
       });
  if (e.sweep.size() > 2) fail("at most two sweep axes");
}

void ScenarioReader::read_root(const json& root, Scenario& s, bool with_sweep) {
  if (!object(root, s, kScenario,
              {"$schema", "satlink_scenario", "client_link", "server_link", "proxy", "page",
               "experiment"}))
    return;
  // Editors find the JSON Schema through "$schema" (scenarios/schema/); the loader only checks it
  // is a string.
  field(root, "$schema", [&](const json& v) { string(v, any_text); });
  {
    Segment k = enter("satlink_scenario");
    auto it = root.find("satlink_scenario");
    if (it == root.end()) {
      fail("is required (the format version: 1)");
    } else if (!(it->is_number_integer() && *it == 1)) {
      fail("must be 1 (the only version this build reads), got " + describe(*it));
    }
  }
  field(root, "client_link", [&](const json& v) { read_link(v, s.client_link); });
  field(root, "server_link", [&](const json& v) { read_link(v, s.server_link); });
  field(root, "proxy", [&](const json& v) { read_proxy(v, s.proxy); });
  if (!root.contains("proxy")) read_proxy(json::object(), s.proxy);
  field(root, "page", [&](const json& v) { read_page(v, s); });
  field(root, "experiment", [&](const json& v) {
    read_experiment(v, s.experiment);
    if (!with_sweep) s.experiment.sweep.clear();
  });
}

}  // namespace scenario_json

using scenario_json::ScenarioReader;
using proxycore::json_reader::read_json_file;

namespace {

ScenarioResult load(const nlohmann::json& doc, bool with_sweep) {
  ScenarioResult result;
  result.scenario.source = doc;
  try {
    ScenarioReader(std::string(), result.errors).read_root(doc, result.scenario, with_sweep);
  } catch (const nlohmann::json::exception& e) {
    // The reader checks every type before access, so this is a bug, but never the caller's crash.
    result.errors.push_back({"", std::string("internal error: ") + e.what()});
  }
  return result;
}

// Each sweep value must give a valid scenario: checked by applying it, so the message is the
// loader's own, prefixed with where the value came from.
void check_sweep(const Scenario& s, std::vector<ScenarioError>& errors) {
  for (std::size_t a = 0; a < s.experiment.sweep.size(); ++a) {
    const SweepAxis& axis = s.experiment.sweep[a];
    for (std::size_t i = 0; i < axis.values.size(); ++i) {
      const std::string where =
          "experiment.sweep[" + std::to_string(a) + "].values[" + std::to_string(i) + "]";
      nlohmann::json doc = s.source;
      if (auto e = apply_override(doc, axis.path, axis.values[i])) {
        errors.push_back({"experiment.sweep[" + std::to_string(a) + "].path", e->reason});
        return;
      }
      for (const auto& e : load(doc, false).errors)
        errors.push_back({where, "gives " + (e.path.empty() ? "(root)" : e.path) + ": " + e.reason});
    }
  }
}

}  // namespace

// A plan is held in memory, a Scenario per trial: a typo such as 1000 repetitions of a
// 1001 x 1001 sweep must be an error, not an allocation that takes the machine down.
constexpr double kMaxTrials = 100'000;

ScenarioResult load_scenario(const nlohmann::json& doc) {
  ScenarioResult result = load(doc, true);
  if (!result.ok()) return result;
  const ExperimentSpec& e = result.scenario.experiment;
  double trials = static_cast<double>(e.modes.size()) * e.repetitions;
  for (const SweepAxis& axis : e.sweep) trials *= static_cast<double>(axis.values.size());
  if (trials > kMaxTrials) {
    result.errors.push_back({"experiment", "the plan would have " + std::to_string(static_cast<long long>(trials)) +
                                               " trials (modes x sweep points x repetitions); at most 100000"});
    return result;
  }
  check_sweep(result.scenario, result.errors);
  return result;
}

ScenarioResult load_scenario_file(const std::string& file) {
  ScenarioResult result;
  if (auto doc = read_json_file(file, result.errors)) return load_scenario(*doc);
  return result;
}

}  // namespace satlink::simulator
