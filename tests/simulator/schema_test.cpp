// The scenario JSON Schema (scenarios/schema/scenario.schema.json) kept true against the loader,
// without a JSON Schema library: a small validator for exactly the keywords the schema uses;
// every shipped scenario validates; every location of the schema is probed with values the
// schema accepts and rejects, which the loader must accept and reject at the same JSON path;
// the loader's own lists of allowed keys must equal the schema's properties; and the documented
// defaults must be what the loader fills in.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "satlink/proxycore/config_json.hpp"
#include "satlink/proxycore/json_reader.hpp"
#include "satlink/simulator/scenario.hpp"

namespace satlink::simulator {
namespace {

using nlohmann::json;

const std::string kSchemaFile = std::string(SATLINK_SCENARIOS_DIR) + "/schema/scenario.schema.json";
// A key no scenario has: the loader's "unknown key (allowed: ...)" message lists the real ones.
const std::string kProbeKey = "satlink_schema_probe";
// Keys of satlink-proxy's config that a scenario's proxy section must not have (the testbed
// wires the backend); the proxy reader lists them as allowed, the scenario loader rejects them.
const std::set<std::string> kTestbedProxyKeys{"backends", "routes", "default_backend"};
// Where the loader reports a problem elsewhere than at the value's own path: the page's paths are
// checked by validate(Page), whose messages are reported at "page".
const std::map<std::string, std::string> kReportedAt{{"page.path", "page"},
                                                     {"page.resources[0].path", "page"}};

json read_schema() {
  std::ifstream in(kSchemaFile);
  if (!in) throw std::runtime_error("cannot read " + kSchemaFile);
  return json::parse(in);
}

const json& the_schema() {
  static const json s = read_schema();
  return s;
}

// A key appended to a path as the loader spells it (keys like "$schema" are quoted in brackets).
std::string join(const std::string& path, const std::string& key) {
  if (!proxycore::json_reader::is_plain_key(key))
    return path + "[" + proxycore::json_reader::quote(key) + "]";
  return path.empty() ? key : path + "." + key;
}

// True when an error at `error_path` is about the value at `path` or something inside it.
bool under(const std::string& error_path, const std::string& path) {
  return path.empty() || error_path == path || error_path.starts_with(path + ".") ||
         error_path.starts_with(path + "[");
}

std::string errors_of(const ScenarioResult& r) {
  return proxycore::format_errors(r.errors);
}

// ---- The validator: the keywords of draft-07 the schema uses, and nothing else ----

const std::set<std::string> kValidationKeywords{
    "$ref",     "type",        "enum",       "const",    "minimum",
    "maximum",  "minLength",   "pattern",    "items",    "minItems",
    "maxItems", "uniqueItems", "properties", "required", "additionalProperties",
    "allOf",    "anyOf",       "oneOf",      "not"};
// Keywords that never change a verdict (enumDescriptions and patternErrorMessage are VS Code's).
const std::set<std::string> kAnnotations{"$schema",     "$comment",         "title",
                                         "description", "default",          "examples",
                                         "definitions", "enumDescriptions", "patternErrorMessage"};

long double number(const json& v) {
  if (v.is_number_unsigned()) return static_cast<long double>(v.get<std::uint64_t>());
  if (v.is_number_integer()) return static_cast<long double>(v.get<std::int64_t>());
  return static_cast<long double>(v.get<double>());
}

bool has_type(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    // JSON Schema's integer is a number without a fractional part: 2.0 is one.
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    const double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  throw std::runtime_error("unknown type " + type);
}

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

class Validator {
 public:
  explicit Validator(const json& root) : root_(root) {}

  // Follows "$ref": "#/definitions/..." (or any JSON pointer into the schema file).
  const json& resolve(const json& node) const {
    const json* at = &node;
    for (int hops = 0; at->is_object() && at->contains("$ref"); ++hops) {
      const std::string ref = (*at)["$ref"].get<std::string>();
      if (hops > 16 || !ref.starts_with("#/")) throw std::runtime_error("unsupported $ref " + ref);
      at = &root_.at(json::json_pointer(ref.substr(1)));
    }
    return *at;
  }

  std::vector<std::string> problems(const json& v, const json& node,
                                    const std::string& at = "") const {
    std::vector<std::string> out;
    check(v, node, at, out);
    return out;
  }
  bool valid(const json& v, const json& node) const { return problems(v, node).empty(); }

 private:
  void check(const json& v, const json& node, const std::string& at,
             std::vector<std::string>& out) const {
    const json& s = resolve(node);
    auto fail = [&](const std::string& why) {
      out.push_back((at.empty() ? "(root)" : at) + ": " + why);
    };
    if (s.is_boolean()) {
      if (!s.get<bool>()) fail("no value is allowed here");
      return;
    }
    if (auto t = s.find("type"); t != s.end()) {
      bool ok = false;
      if (t->is_string()) {
        ok = has_type(v, t->get<std::string>());
      } else {
        for (const json& name : *t) ok = ok || has_type(v, name.get<std::string>());
      }
      if (!ok) return fail("must be of type " + t->dump() + ", got " + v.dump());
    }
    if (auto e = s.find("enum"); e != s.end() && std::find(e->begin(), e->end(), v) == e->end())
      fail("must be one of " + e->dump() + ", got " + v.dump());
    if (auto c = s.find("const"); c != s.end() && *c != v) fail("must be " + c->dump());
    if (v.is_number()) {
      if (auto m = s.find("minimum"); m != s.end() && number(v) < number(*m))
        fail("must be >= " + m->dump() + ", got " + v.dump());
      if (auto m = s.find("maximum"); m != s.end() && number(v) > number(*m))
        fail("must be <= " + m->dump() + ", got " + v.dump());
    }
    if (v.is_string()) {
      const auto& str = v.get_ref<const std::string&>();
      if (auto m = s.find("minLength"); m != s.end() && code_points(str) < m->get<std::size_t>())
        fail("must have at least " + m->dump() + " characters");
      if (auto p = s.find("pattern");
          p != s.end() && !std::regex_search(str, regex(p->get<std::string>())))
        fail("must match " + p->dump() + ", got " + v.dump());
    }
    if (v.is_array()) {
      if (auto m = s.find("minItems"); m != s.end() && v.size() < m->get<std::size_t>())
        fail("must have at least " + m->dump() + " items");
      if (auto m = s.find("maxItems"); m != s.end() && v.size() > m->get<std::size_t>())
        fail("must have at most " + m->dump() + " items");
      if (s.value("uniqueItems", false)) {
        for (std::size_t i = 0; i < v.size(); ++i)
          for (std::size_t j = 0; j < i; ++j)
            if (v[i] == v[j])
              fail("items " + std::to_string(j) + " and " + std::to_string(i) + " are equal");
      }
      if (auto items = s.find("items"); items != s.end())
        for (std::size_t i = 0; i < v.size(); ++i)
          check(v[i], *items, at + "[" + std::to_string(i) + "]", out);
    }
    if (v.is_object()) {
      for (const json& key : s.value("required", json::array()))
        if (!v.contains(key.get<std::string>())) fail(key.get<std::string>() + " is required");
      static const json kNone = json::object();
      const auto props = s.find("properties");
      const json& properties = props != s.end() ? *props : kNone;
      for (const auto& item : v.items()) {
        if (auto p = properties.find(item.key()); p != properties.end()) {
          check(item.value(), *p, join(at, item.key()), out);
        } else if (auto extra = s.find("additionalProperties"); extra != s.end()) {
          check(item.value(), *extra, join(at, item.key()), out);
        }
      }
    }
    if (auto all = s.find("allOf"); all != s.end())
      for (const json& sub : *all) check(v, sub, at, out);
    if (auto any = s.find("anyOf"); any != s.end()) {
      std::size_t n = 0;
      for (const json& sub : *any) n += problems(v, sub, at).empty();
      if (n == 0) fail("matches none of anyOf");
    }
    if (auto one = s.find("oneOf"); one != s.end()) {
      std::size_t n = 0;
      for (const json& sub : *one) n += problems(v, sub, at).empty();
      if (n != 1) fail("matches " + std::to_string(n) + " of oneOf, must match exactly one");
    }
    if (auto no = s.find("not"); no != s.end() && problems(v, *no, at).empty())
      fail("matches a schema it must not match: " + no->dump());
  }

  const std::regex& regex(const std::string& pattern) const {
    auto it = regexes_.find(pattern);
    if (it == regexes_.end())
      it = regexes_.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
    return it->second;
  }

  const json& root_;
  mutable std::map<std::string, std::regex> regexes_;
};

const Validator& validator() {
  static const Validator v(the_schema());
  return v;
}

// ---- Walking the schema: every location a value can take, and a document to put it in ----

// The schemas a location's value must match at once or as alternatives: the node itself and its
// allOf/anyOf/oneOf members, references followed.
std::vector<const json*> shapes(const json& node) {
  const json& s = validator().resolve(node);
  std::vector<const json*> out{&s};
  if (!s.is_object()) return out;
  for (const char* keyword : {"allOf", "anyOf", "oneOf"}) {
    if (!s.contains(keyword)) continue;
    for (const json& member : s[keyword])
      for (const json* shape : shapes(member)) out.push_back(shape);
  }
  return out;
}

json minimal(const json& shape);

// A valid value for a node: its default, first example, first choice, constant, or a minimal one.
json example(const json& node) {
  const json& s = validator().resolve(node);
  if (s.contains("default")) return s["default"];
  if (s.contains("examples")) return s["examples"][0];
  if (s.contains("enum")) return s["enum"][0];
  if (s.contains("const")) return s["const"];
  for (const char* keyword : {"oneOf", "anyOf", "allOf"})
    if (s.contains(keyword)) return example(s[keyword][0]);
  const std::string type =
      s.contains("type") && s["type"].is_string() ? s["type"].get<std::string>() : "";
  if (type == "object") return minimal(s);
  if (type == "array") return json::array();
  if (type == "boolean") return false;
  if (type == "string") return "x";
  if (type == "number" || type == "integer") return s.value("minimum", json(0));
  return nullptr;
}

// An object of this shape with only its required properties.
json minimal(const json& shape) {
  json o = json::object();
  for (const json& key : shape.value("required", json::array()))
    o[key.get<std::string>()] = example(shape["properties"][key.get<std::string>()]);
  return o;
}

using Place = std::function<json(const json&)>;

struct Location {
  std::string path;            // the loader's JSON path of the value ("" = the document)
  const json* node;            // its schema as written
  Place place;                 // the whole document with a value here, everything else minimal
  std::optional<json> absent;  // the document without this key (for properties)
};

void walk(const json& node, const std::string& path, const Place& place, std::optional<json> absent,
          std::vector<Location>& out) {
  if (out.size() > 10000) throw std::runtime_error("the schema does not end (recursive $ref?)");
  out.push_back({path, &node, place, std::move(absent)});
  for (const json* shape : shapes(node)) {
    if (!shape->is_object()) continue;
    if (auto properties = shape->find("properties"); properties != shape->end()) {
      for (const auto& item : properties->items()) {
        const std::string key = item.key();
        Place child = [place, shape, key](const json& value) {
          json o = minimal(*shape);
          o[key] = value;
          return place(o);
        };
        walk(item.value(), join(path, key), child, place(minimal(*shape)), out);
      }
    }
    if (auto items = shape->find("items"); items != shape->end()) {
      Place child = [place](const json& value) { return place(json::array({value})); };
      walk(*items, path + "[0]", child, std::nullopt, out);
    }
  }
}

const std::vector<Location>& locations() {
  static const std::vector<Location> all = [] {
    std::vector<Location> out;
    walk(
        the_schema(), "", [](const json& v) { return v; }, std::nullopt, out);
    return out;
  }();
  return all;
}

// ---- Values to try at a location ----

struct Candidate {
  json value;
  bool exemplary;  // a default, example, choice, constant or minimal object: must load cleanly
  std::string why;
};

json below(const json& m) {
  if (m.is_number_integer()) return json(static_cast<std::int64_t>(number(m)) - 1);
  const double d = m.get<double>();
  return json(d - std::max(std::abs(d) * 0.01, 1e-3));
}

json above(const json& m) {
  if (m.is_number_unsigned() && m.get<std::uint64_t>() == std::numeric_limits<std::uint64_t>::max())
    return json(std::ldexp(1.0, 64));  // 2^64: an integer (to JSON Schema) no uint64 holds
  if (m.is_number_integer()) return json(static_cast<std::uint64_t>(number(m)) + 1);
  const double d = m.get<double>();
  return json(d + std::max(std::abs(d) * 0.01, 1e-3));
}

std::vector<Candidate> candidates(const json& node) {
  std::vector<Candidate> out;
  for (json v :
       {json(true), json(false), json(0), json(-1), json(0.5), json(12345), json(1e300), json(""),
        json("x-invalid"), json("has space"), json(nullptr), json::object(), json::array()})
    out.push_back({v, false, "pool"});
  for (const json* shape : shapes(node)) {
    const json& s = *shape;
    if (!s.is_object()) continue;
    if (s.contains("default")) out.push_back({s["default"], true, "default"});
    for (const json& e : s.value("examples", json::array())) out.push_back({e, true, "example"});
    for (const json& e : s.value("enum", json::array())) out.push_back({e, true, "enum value"});
    if (auto c = s.find("const"); c != s.end()) {
      out.push_back({*c, true, "const"});
      if (c->is_number())
        out.push_back({json(static_cast<double>(number(*c)) + 1), false, "const + 1"});
    }
    if (auto m = s.find("minimum"); m != s.end()) {
      out.push_back({*m, false, "minimum"});
      out.push_back({below(*m), false, "below minimum"});
    }
    if (auto m = s.find("maximum"); m != s.end()) {
      out.push_back({*m, false, "maximum"});
      out.push_back({above(*m), false, "above maximum"});
    }
    if (s.contains("type") && (s["type"] == "integer" || s["type"] == "number")) {
      // Integers and decimals apart: the loader reads each field as one or the other.
      const double base = static_cast<double>(number(s.value("minimum", json(0))));
      out.push_back({json(base + 0.5), false, "fraction"});
    }
    if (auto items = s.find("items"); items != s.end()) {
      const json e = example(*items);
      if (auto m = s.find("maxItems"); m != s.end()) {
        // A full array: the schema's own example of one when it has it (items that must differ,
        // as sweep paths do), else copies of one item.
        json full = json(std::vector<json>(m->get<std::size_t>(), e));
        for (const json& x : s.value("examples", json::array()))
          if (x.is_array() && x.size() == m->get<std::size_t>()) full = x;
        out.push_back({full, false, "maxItems"});
        out.push_back(
            {json(std::vector<json>(m->get<std::size_t>() + 1, e)), false, "maxItems + 1"});
      }
      if (auto m = s.find("minItems"); m != s.end() && m->get<std::size_t>() > 0) {
        out.push_back({json(std::vector<json>(m->get<std::size_t>(), e)), false, "minItems"});
        out.push_back(
            {json(std::vector<json>(m->get<std::size_t>() - 1, e)), false, "minItems - 1"});
      }
      if (s.value("uniqueItems", false))
        out.push_back({json::array({e, e}), false, "duplicate items"});
      out.push_back({json::array({e}), true, "one item"});
    } else if (auto m = s.find("minItems"); m != s.end() && m->get<std::size_t>() == 1) {
      out.push_back({json::array(), false, "minItems - 1"});
    }
    if (s.contains("properties")) {
      out.push_back({minimal(s), true, "minimal object"});
      json unknown = minimal(s);
      unknown[kProbeKey] = 1;
      out.push_back({unknown, false, "unknown key"});
      if (auto no = s.find("not"); no != s.end() && no->contains("required")) {
        json both = minimal(s);
        for (const json& key : (*no)["required"])
          both[key.get<std::string>()] = example(s["properties"][key.get<std::string>()]);
        out.push_back({both, false, "keys that exclude each other"});
      }
    }
  }
  return out;
}

// ---- The loader's view of a scenario: every field it read (for the defaults) ----

json jitter_view(const Jitter& j) {
  json out;
  out["distribution"] = std::string(to_string(j.distribution));
  out["ms"] = j.ms;
  out["pareto_shape"] = j.pareto_shape;
  return out;
}

json think_view(const ThinkTime& t) {
  json out;
  out["ms"] = t.ms;
  out["jitter"] = jitter_view(t.jitter);
  return out;
}

json direction_view(const Direction& d) {
  json out;
  out["delay_ms"] = d.delay_ms;
  out["jitter"] = jitter_view(d.jitter);
  out["rate_bps"] = d.rate_bps;
  out["queue_bytes"] = d.queue_bytes;
  out["loss"]["rate"] = d.loss.rate;
  out["loss"]["burst_enter"] = d.loss.burst_enter;
  out["loss"]["burst_exit"] = d.loss.burst_exit;
  out["loss"]["burst_rate"] = d.loss.burst_rate;
  return out;
}

json link_view(const LinkSpec& l) {
  const LinkConfig& c = l.config;
  json out;
  out["preset"] = l.preset;
  out["up"] = direction_view(c.up);
  out["down"] = direction_view(c.down);
  out["setup"] = std::string(to_string(c.setup));
  out["slow_start"]["enabled"] = c.slow_start.enabled;
  out["slow_start"]["initial_window"] = c.slow_start.initial_window;
  out["slow_start"]["restart_after_idle"] = c.slow_start.restart_after_idle;
  out["retransmit"] = std::string(to_string(c.retransmit));
  out["mss"] = c.mss;
  out["window_bytes"] = c.window_bytes;
  out["schedule"]["points"] = json::array();
  for (const DelayPoint& p : c.schedule.points)
    out["schedule"]["points"].push_back(json{{"t_ms", p.t_ms}, {"delay_ms", p.delay_ms}});
  out["schedule"]["repeat_ms"] = c.schedule.repeat_ms;
  out["seed"] = c.seed;
  return out;
}

json scenario_view(const Scenario& s) {
  json out;
  out["name"] = s.name;
  out["description"] = s.description;
  out["client_link"] = link_view(s.client_link);
  out["server_link"] = link_view(s.server_link);
  out["proxy"] = proxycore::proxy_config_to_json(s.proxy);
  json& origin = out["origin"];
  origin["keep_alive"]["enabled"] = s.origin.keep_alive.enabled;
  origin["keep_alive"]["timeout_ms"] = s.origin.keep_alive.timeout_ms;
  origin["keep_alive"]["max_requests"] = s.origin.keep_alive.max_requests;
  origin["think"] = think_view(s.origin.think);
  origin["memory_model"] = s.origin.memory_model;
  origin["max_connections"] = s.origin.max_connections;
  origin["tls"] = s.origin.tls;
  origin["tls_version"] = std::string(to_string(s.origin.tls_version));
  json& page = out["page"];
  page["path"] = s.page.path;
  page["html_size"] = s.page.html_size;
  page["resources"] = json::array();
  for (const Resource& r : s.page.resources) {
    json res;
    res["path"] = r.path;
    res["type"] = r.content_type;
    res["size"] = r.size;
    res["think"] = r.think ? think_view(*r.think) : json(nullptr);
    page["resources"].push_back(res);
  }
  out["generate"]["count"] = s.generator.count;
  out["generate"]["min_bytes"] = s.generator.min_bytes;
  out["generate"]["max_bytes"] = s.generator.max_bytes;
  json& client = out["client"];
  client["connections_per_host"] = s.client.connections_per_host;
  client["keep_alive"] = s.client.keep_alive;
  client["http_version"] = s.client.http10 ? "1.0" : "1.1";
  client["pipelining"] = s.client.pipelining;
  client["users"] = s.client.users;
  json& experiment = out["experiment"];
  experiment["modes"] = json::array();
  for (Mode m : s.experiment.modes) experiment["modes"].push_back(std::string(to_string(m)));
  experiment["sweep"] = json::array();
  for (const SweepAxis& a : s.experiment.sweep)
    experiment["sweep"].push_back(json{{"path", a.path}, {"values", a.values}});
  experiment["repetitions"] = s.experiment.repetitions;
  experiment["seed"] = s.experiment.seed;
  experiment["parallelism"] = s.experiment.parallelism;
  experiment["trial_timeout_ms"] = s.experiment.trial_timeout_ms;
  experiment["hold_ms"] = s.experiment.hold_ms;
  return out;
}

// ---- The tests ----

TEST(ScenarioSchema, UsesOnlyKeywordsTheTestUnderstands) {
  const Validator& v = validator();
  std::size_t fields = 0;
  std::function<void(const json&, const std::string&)> visit = [&](const json& node,
                                                                   const std::string& where) {
    if (node.is_boolean()) return;
    ASSERT_TRUE(node.is_object()) << where;
    for (const auto& item : node.items()) {
      EXPECT_TRUE(kValidationKeywords.contains(item.key()) || kAnnotations.contains(item.key()))
          << where << ": keyword " << item.key() << " is not understood by this test's validator";
    }
    if (node.contains("$ref")) {
      // Draft-07 ignores a reference's siblings; editors differ. None, so every reader agrees.
      EXPECT_EQ(node.size(), 1u) << where << ": $ref with siblings (wrap it in allOf)";
      EXPECT_NO_THROW(v.resolve(node)) << where;
    }
    if (node.contains("properties")) {
      EXPECT_EQ(node.value("additionalProperties", json(true)), json(false))
          << where << ": the loader rejects unknown keys everywhere";
      for (const json& key : node.value("required", json::array()))
        EXPECT_TRUE(node["properties"].contains(key.get<std::string>()))
            << where << ": required " << key;
      for (const auto& item : node["properties"].items()) {
        ++fields;
        const json& target = v.resolve(item.value());
        EXPECT_TRUE(item.value().contains("description") || target.contains("description"))
            << where << "." << item.key() << ": no description";
        visit(item.value(), where + "." + item.key());
      }
    }
    if (node.contains("default")) {
      EXPECT_TRUE(v.valid(node["default"], node)) << where << ": the default does not validate";
    }
    for (const json& e : node.value("examples", json::array()))
      EXPECT_TRUE(v.valid(e, node)) << where << ": example " << e << " does not validate";
    if (node.contains("enumDescriptions")) {
      EXPECT_EQ(node["enumDescriptions"].size(), node.value("enum", json::array()).size()) << where;
    }
    if (node.contains("pattern")) {
      EXPECT_NO_THROW((void)std::regex(node["pattern"].get<std::string>())) << where;
    }
    for (const char* keyword : {"items", "not", "additionalProperties"})
      if (node.contains(keyword)) visit(node[keyword], where + "/" + keyword);
    for (const char* keyword : {"allOf", "anyOf", "oneOf"}) {
      if (!node.contains(keyword)) continue;
      for (std::size_t i = 0; i < node[keyword].size(); ++i)
        visit(node[keyword][i], where + "/" + keyword + "/" + std::to_string(i));
    }
    if (auto defs = node.find("definitions"); defs != node.end())
      for (const auto& item : defs->items()) visit(item.value(), "#/definitions/" + item.key());
  };
  visit(the_schema(), "(root)");
  EXPECT_EQ(the_schema().value("$schema", ""), "http://json-schema.org/draft-07/schema#");
  EXPECT_GE(fields, 100u);
}

TEST(ScenarioSchema, EveryShippedScenarioValidates) {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SATLINK_SCENARIOS_DIR)) {
    if (entry.path().extension() != ".json") continue;
    ++count;
    std::ifstream in(entry.path());
    const json doc = json::parse(in);
    std::string problems;
    for (const std::string& p : validator().problems(doc, the_schema())) problems += p + "\n";
    EXPECT_TRUE(problems.empty()) << entry.path() << "\n" << problems;
  }
  EXPECT_GE(count, 1u);
}

// The validator is not vacuous: the loader test's typos are flagged where the loader flags them.
TEST(ScenarioSchema, FlagsTheTyposTheLoaderFlags) {
  const json doc = json::parse(R"({"satlink_scenario": 1,
    "client_link": {"preset": "mars", "dwon": {}},
    "client": {"connections_per_host": 0, "http_version": "2"},
    "origin": {"memory_model": "iis", "keep_alive": "forever"},
    "page": {"resources": [{"path": "/a.css", "size": 1.5}], "generate": {}},
    "experiment": {"modes": ["keep-alive", "keep-alive", "turbo"], "repetitions": 0,
                   "sweep": [{"path": "a", "from": 1}]}})");
  std::set<std::string> schema_paths;
  for (const std::string& p : validator().problems(doc, the_schema()))
    schema_paths.insert(p.substr(0, p.find(':')));
  EXPECT_EQ(schema_paths,
            (std::set<std::string>{
                "client_link.preset", "client_link.dwon", "client.connections_per_host",
                "client.http_version", "origin.memory_model", "origin.keep_alive", "page",
                "page.resources[0]", "page.resources[0].size", "experiment.modes",
                "experiment.modes[2]", "experiment.repetitions", "experiment.sweep[0]"}));
  const auto loaded = load_scenario(doc);
  std::set<std::string> loader_paths;
  for (const auto& e : loaded.errors) loader_paths.insert(e.path);
  for (const char* p : {"client_link.preset", "client_link.dwon", "client.connections_per_host",
                        "client.http_version", "origin.memory_model", "origin.keep_alive",
                        "page.resources[0].type", "page.resources[0].size", "experiment.modes[1]",
                        "experiment.modes[2]", "experiment.repetitions"})
    EXPECT_TRUE(loader_paths.contains(p)) << p << "\n" << errors_of(loaded);
  EXPECT_TRUE(validator().valid(json::parse(R"({"satlink_scenario": 1,
    "origin": {"keep_alive": {"timeout_ms": 75000}},
    "experiment": {"sweep": [{"path": "a", "values": [1]}, {"path": "b", "from": 0, "to": 1, "step": 1}]}})"),
                                the_schema()));
}

// Schema -> loader and the ranges: at every location of the schema, every value the schema
// accepts loads without a problem at that path (its defaults, examples and choices without any
// problem at all), and every value it rejects is rejected by the loader at that path.
TEST(ScenarioSchema, TheLoaderAcceptsAndRejectsWhatTheSchemaDoes) {
  std::size_t accepted_count = 0, rejected_count = 0;
  for (const Location& at : locations()) {
    std::size_t rejected_here = 0;
    for (const Candidate& c : candidates(*at.node)) {
      SCOPED_TRACE("at " + (at.path.empty() ? std::string("(root)") : at.path) + " = " +
                   c.value.dump() + " (" + c.why + ")");
      const bool accepted = validator().valid(c.value, *at.node);
      const json doc = at.place(c.value);
      ASSERT_EQ(validator().valid(doc, the_schema()), accepted)
          << "the document built around the value: " << doc.dump();
      const ScenarioResult r = load_scenario(doc);
      bool here = false, elsewhere = false;
      const auto alias = kReportedAt.find(at.path);
      for (const auto& e : r.errors) {
        here = here || under(e.path, at.path);
        elsewhere = elsewhere || (alias != kReportedAt.end() && e.path == alias->second);
      }
      if (!accepted) {
        ++rejected_count;
        ++rejected_here;
        EXPECT_TRUE(here || elsewhere)
            << "the schema rejects it, the loader does not (at this path): " << doc.dump() << "\n"
            << errors_of(r);
      } else {
        ++accepted_count;
        if (c.exemplary) {
          EXPECT_TRUE(r.ok()) << "the schema documents it, the loader rejects it: " << doc.dump()
                              << "\n"
                              << errors_of(r);
        } else {
          EXPECT_FALSE(here) << "the schema accepts it, the loader does not: " << doc.dump() << "\n"
                             << errors_of(r);
        }
      }
    }
    EXPECT_GT(rejected_here, 0u) << at.path << ": no value the schema rejects";
  }
  EXPECT_GE(locations().size(), 150u);
  EXPECT_GT(accepted_count, 500u);
  EXPECT_GT(rejected_count, 1000u);
}

std::optional<std::set<std::string>> allowed_keys(const ScenarioResult& r,
                                                  const std::string& probe_path) {
  const std::string prefix = "unknown key (allowed: ";
  for (const auto& e : r.errors) {
    if (e.path != probe_path || !e.reason.starts_with(prefix) || !e.reason.ends_with(")")) continue;
    std::set<std::string> keys;
    const std::string list = e.reason.substr(prefix.size(), e.reason.size() - prefix.size() - 1);
    for (std::size_t start = 0; start <= list.size();) {
      std::size_t end = list.find(", ", start);
      if (end == std::string::npos) end = list.size();
      keys.insert(list.substr(start, end - start));
      start = end + 2;
    }
    return keys;
  }
  return std::nullopt;
}

// Loader -> schema: at every object of the schema, the keys the loader allows (from its own
// "unknown key (allowed: ...)" message) are exactly the schema's properties there.
TEST(ScenarioSchema, EveryKeyTheLoaderAllowsIsInTheSchema) {
  std::size_t objects = 0;
  for (const Location& at : locations()) {
    std::set<std::string> documented;
    const json* first = nullptr;
    for (const json* shape : shapes(*at.node)) {
      if (!shape->is_object() || !shape->contains("properties")) continue;
      if (!first) first = shape;
      for (const auto& item : (*shape)["properties"].items()) documented.insert(item.key());
    }
    if (!first) continue;
    ++objects;
    json value = minimal(*first);
    value[kProbeKey] = 1;
    const ScenarioResult r = load_scenario(at.place(value));
    auto allowed = allowed_keys(r, join(at.path, kProbeKey));
    ASSERT_TRUE(allowed) << at.path << ": no unknown-key error from the loader\n" << errors_of(r);
    if (at.path == "proxy") {
      for (const std::string& key : kTestbedProxyKeys) {
        EXPECT_TRUE(allowed->contains(key)) << key;
        allowed->erase(key);
      }
    }
    EXPECT_EQ(*allowed, documented) << (at.path.empty() ? "(root)" : at.path)
                                    << ": the loader's keys (left) and the schema's (right) differ";
  }
  EXPECT_GE(objects, 25u);
}

// Loader -> schema for choices: at every location with an enum, the choices the loader names when
// it rejects an unknown one are exactly the schema's.
TEST(ScenarioSchema, EveryChoiceTheLoaderKnowsIsInTheSchema) {
  const std::string unknown = "x-invalid";
  const std::regex quoted("\"([^\"]*)\"");
  std::size_t enums = 0;
  for (const Location& at : locations()) {
    std::set<std::string> documented;
    for (const json* shape : shapes(*at.node)) {
      if (!shape->is_object() || !shape->contains("enum")) continue;
      for (const json& e : (*shape)["enum"])
        if (e.is_string()) documented.insert(e.get<std::string>());
    }
    if (documented.empty()) continue;
    ++enums;
    const ScenarioResult r = load_scenario(at.place(json(unknown)));
    std::set<std::string> named;
    bool reported = false;
    for (const auto& e : r.errors) {
      if (e.path != at.path) continue;
      reported = true;
      for (std::sregex_iterator m(e.reason.begin(), e.reason.end(), quoted), end; m != end; ++m)
        if ((*m)[1] != unknown) named.insert((*m)[1]);
    }
    ASSERT_TRUE(reported) << at.path << ": " << errors_of(r);
    EXPECT_EQ(named, documented) << at.path
                                 << ": the loader's choices (left) and the schema's (right) differ";
  }
  EXPECT_GE(enums, 15u);
}

// The presets' descriptions in the schema are link_presets()'s, in its order.
TEST(ScenarioSchema, LinkPresetDescriptionsAreTheLoaders) {
  const json& preset = the_schema()["definitions"]["link"]["properties"]["preset"];
  ASSERT_EQ(preset["enum"].size(), link_presets().size());
  for (std::size_t i = 0; i < link_presets().size(); ++i) {
    EXPECT_EQ(preset["enum"][i], std::string(link_presets()[i].id));
    EXPECT_EQ(preset["enumDescriptions"][i], std::string(link_presets()[i].description));
  }
}

TEST(ScenarioSchema, ProxyKeysTheTestbedSetsAreRejectedByBoth) {
  for (const std::string& key : kTestbedProxyKeys) {
    json doc = {{"satlink_scenario", 1}, {"proxy", {{key, json::array()}}}};
    EXPECT_FALSE(validator().valid(doc, the_schema())) << key;
    const ScenarioResult r = load_scenario(doc);
    ASSERT_FALSE(r.ok()) << key;
    EXPECT_EQ(r.errors[0].path, "proxy." + key);
    EXPECT_NE(r.errors[0].reason.find("set by the testbed"), std::string::npos)
        << r.errors[0].reason;
  }
}

// Setting a field to its documented default changes nothing the loader read; setting it to
// another valid value changes something (so the comparison sees the field at all).
TEST(ScenarioSchema, DefaultsAreTheLoaders) {
  std::size_t checked = 0;
  std::set<std::string> unobservable;
  for (const Location& at : locations()) {
    const json& s = validator().resolve(*at.node);
    if (!s.contains("default") || !at.absent) continue;
    SCOPED_TRACE(at.path);
    const json& d = s["default"];
    const ScenarioResult without = load_scenario(*at.absent);
    const ScenarioResult with = load_scenario(at.place(d));
    ASSERT_TRUE(without.ok()) << errors_of(without);
    ASSERT_TRUE(with.ok()) << errors_of(with);
    const json base = scenario_view(without.scenario);
    EXPECT_EQ(scenario_view(with.scenario), base)
        << "default " << d.dump() << " is not the loader's";
    ++checked;
    bool other_value = false, seen = false;
    for (const Candidate& c : candidates(*at.node)) {
      if (c.value == d || !validator().valid(c.value, *at.node)) continue;
      const ScenarioResult r = load_scenario(at.place(c.value));
      if (!r.ok()) continue;
      other_value = true;
      seen = seen || scenario_view(r.scenario) != base;
    }
    if (!other_value) unobservable.insert(at.path);
    EXPECT_TRUE(seen || !other_value) << "scenario_view() does not show this field; add it";
  }
  EXPECT_GE(checked, 90u);
  // Fields whose every other value needs a partner field: cert_file needs key_file and the other
  // way round, min_bytes needs max_bytes >= it.
  EXPECT_EQ(unobservable,
            (std::set<std::string>{"page.generate.min_bytes", "proxy.client.tls.cert_file",
                                   "proxy.client.tls.key_file"}));
}

}  // namespace
}  // namespace satlink::simulator
