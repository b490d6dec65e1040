#include "form_schema.hpp"

#include <QFile>
#include <QStringList>
#include <cmath>

#include "satlink/proxycore/config_json.hpp"

// Q_INIT_RESOURCE declares a function at the scope it is used in, so it must run outside any
// namespace. The resources live in the static satlink_gui library; without this reference the
// linker may drop them from a binary that never names them (the tests).
static void initSatlinkResources() {
  Q_INIT_RESOURCE(satlink);
}

namespace satlink::gui::form {

namespace sim = satlink::simulator;

const Schema& scenarioSchema() {
  static const Schema schema = [] {
    initSatlinkResources();
    QFile f(QStringLiteral(":/scenarios/schema/scenario.schema.json"));
    if (!f.open(QIODevice::ReadOnly)) return Schema::object();
    Schema parsed = Schema::parse(f.readAll().toStdString(), nullptr, false);
    return parsed.is_discarded() ? Schema::object() : parsed;
  }();
  return schema;
}

namespace {

const Schema* definition(const std::string& ref) {
  static const std::string prefix = "#/definitions/";
  if (ref.compare(0, prefix.size(), prefix) != 0) return nullptr;
  const Schema& schema = scenarioSchema();
  const auto defs = schema.find("definitions");
  if (defs == schema.end() || !defs->is_object()) return nullptr;
  const auto it = defs->find(ref.substr(prefix.size()));
  return it == defs->end() ? nullptr : &*it;
}

// Keys of `from` that `into` lacks are copied over; `into`'s own keys win.
void fillFrom(Schema& into, const Schema& from) {
  for (auto it = from.begin(); it != from.end(); ++it)
    if (!into.contains(it.key())) into[it.key()] = it.value();
}

}  // namespace

Schema resolved(const Schema& node) {
  if (!node.is_object()) return node;
  Schema out = node;
  if (auto it = out.find("$ref"); it != out.end() && it->is_string()) {
    const Schema* target = definition(it->get<std::string>());
    out.erase("$ref");
    if (target) fillFrom(out, resolved(*target));
  }
  if (auto it = out.find("allOf"); it != out.end() && it->is_array()) {
    const Schema parts = *it;
    out.erase("allOf");
    for (const Schema& part : parts) fillFrom(out, resolved(part));
  }
  return out;
}

std::string typeOf(const Schema& node) {
  if (auto it = node.find("type"); it != node.end() && it->is_string())
    return it->get<std::string>();
  if (node.contains("properties")) return "object";
  return {};
}

QString descriptionOf(const Schema& node) {
  return QString::fromStdString(node.value("description", std::string()));
}

Json toJson(const Schema& node) {
  return Json::parse(node.dump());
}

Json defaultOf(const Schema& node) {
  auto it = node.find("default");
  return it == node.end() ? Json() : toJson(*it);
}

QString labelFor(const std::string& key, const std::string& parent) {
  static const std::map<std::string, QString> special = {
      {"up", QStringLiteral("Uplink")},
      {"down", QStringLiteral("Downlink")},
      {"add_x_forwarded_for", QStringLiteral("Add X-Forwarded-For")},
      {"t_ms", QStringLiteral("Time (ms)")},
      {"min_bytes", QStringLiteral("Smallest (bytes)")},
      {"max_bytes", QStringLiteral("Largest (bytes)")},
      {"html_size", QStringLiteral("HTML size (bytes)")},
  };
  if (auto it = special.find(key); it != special.end()) return it->second;
  if (key == "ms" && !parent.empty()) return labelFor(parent) + QStringLiteral(" (ms)");
  static const std::map<QString, QString> words = {
      {"rtt", "RTT"}, {"tls", "TLS"}, {"http", "HTTP"}, {"mss", "MSS"}, {"html", "HTML"}};
  static const std::map<QString, QString> units = {
      {"ms", "ms"}, {"bps", "bit/s"}, {"bytes", "bytes"}};
  QStringList parts = QString::fromStdString(key).split(QLatin1Char('_'), Qt::SkipEmptyParts);
  QString unit;
  if (parts.size() > 1 && units.count(parts.back())) unit = units.at(parts.takeLast());
  for (QString& p : parts)
    if (auto it = words.find(p); it != words.end()) p = it->second;
  QString label = parts.join(QLatin1Char(' '))
                      .replace(QStringLiteral("keep alive"), QStringLiteral("keep-alive"));
  if (!label.isEmpty()) label[0] = label[0].toUpper();
  return unit.isEmpty() ? label : label + QStringLiteral(" (") + unit + QLatin1Char(')');
}

QString displayText(const Json& value) {
  if (value.is_null()) return {};
  if (value.is_string()) return QString::fromStdString(value.get<std::string>());
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15)
      return QString::number(static_cast<long long>(d));
  }
  return QString::fromStdString(value.dump());
}

Json parseNumber(const QString& text) {
  const QString t = text.trimmed();
  if (t.isEmpty()) return nullptr;
  bool ok = false;
  if (const qulonglong u = t.toULongLong(&ok); ok) return static_cast<std::uint64_t>(u);
  if (const qlonglong i = t.toLongLong(&ok); ok) return static_cast<std::int64_t>(i);
  // QString::toDouble is locale-independent ("C"), as JSON is.
  if (const double d = t.toDouble(&ok); ok && std::isfinite(d)) return d;
  return t.toStdString();
}

Json valueAt(const Json& doc, const std::string& path) {
  const Json* at = &doc;
  std::string part;
  auto step = [&]() -> bool {
    if (part.empty()) return true;
    if (at->is_object()) {
      auto it = at->find(part);
      if (it == at->end()) return false;
      at = &*it;
    } else if (at->is_array() && part.find_first_not_of("0123456789") == std::string::npos &&
               part.size() < 9 && std::stoul(part) < at->size()) {
      at = &(*at)[std::stoul(part)];
    } else {
      return false;
    }
    part.clear();
    return true;
  };
  for (char c : path) {
    if (c == '.' || c == '[' || c == ']') {
      if (!step()) return nullptr;
    } else {
      part += c;
    }
  }
  return step() ? *at : Json();
}

std::string joinPath(const std::string& base, const std::string& key) {
  return base.empty() ? key : base + "." + key;
}

std::string indexPath(const std::string& base, std::size_t index) {
  return base + "[" + std::to_string(index) + "]";
}

bool isAtOrBelow(const std::string& path, const std::string& base) {
  if (base.empty()) return true;
  if (path.compare(0, base.size(), base) != 0) return false;
  return path.size() == base.size() || path[base.size()] == '.' || path[base.size()] == '[';
}

namespace {

Json jitterJson(const sim::Jitter& j) {
  return {{"distribution", std::string(sim::to_string(j.distribution))},
          {"ms", j.ms},
          {"pareto_shape", j.pareto_shape}};
}

Json directionJson(const sim::Direction& d) {
  return {{"delay_ms", d.delay_ms},
          {"jitter", jitterJson(d.jitter)},
          {"rate_bps", d.rate_bps},
          {"queue_bytes", d.queue_bytes},
          {"loss",
           {{"rate", d.loss.rate},
            {"burst_enter", d.loss.burst_enter},
            {"burst_exit", d.loss.burst_exit},
            {"burst_rate", d.loss.burst_rate}}}};
}

Json linkJson(const sim::LinkSpec& l) {
  const sim::LinkConfig& c = l.config;
  Json points = Json::array();
  for (const auto& p : c.schedule.points)
    points.push_back({{"t_ms", p.t_ms}, {"delay_ms", p.delay_ms}});
  return {{"rtt_ms", c.rtt_ms()},
          {"up", directionJson(c.up)},
          {"down", directionJson(c.down)},
          {"setup", std::string(sim::to_string(c.setup))},
          {"slow_start",
           {{"enabled", c.slow_start.enabled},
            {"initial_window", c.slow_start.initial_window},
            {"restart_after_idle", c.slow_start.restart_after_idle}}},
          {"retransmit", std::string(sim::to_string(c.retransmit))},
          {"mss", c.mss},
          {"window_bytes", c.window_bytes},
          {"schedule", {{"points", points}, {"repeat_ms", c.schedule.repeat_ms}}}};
}

}  // namespace

Json effectiveScenario(const sim::Scenario& s) {
  Json out;
  out["client_link"] = linkJson(s.client_link);
  out["server_link"] = linkJson(s.server_link);
  out["proxy"] = proxycore::proxy_config_to_json(s.proxy);
  const sim::OriginSpec& o = s.origin;
  out["origin"] = {{"keep_alive",
                    {{"enabled", o.keep_alive.enabled},
                     {"timeout_ms", o.keep_alive.timeout_ms},
                     {"max_requests", o.keep_alive.max_requests}}},
                   {"think", {{"ms", o.think.ms}, {"jitter", jitterJson(o.think.jitter)}}},
                   {"memory_model", o.memory_model},
                   {"max_connections", o.max_connections},
                   {"tls", o.tls},
                   {"tls_version", std::string(sim::to_string(o.tls_version))}};
  out["page"] = {{"path", s.page.path},
                 {"html_size", s.page.html_size},
                 {"generate",
                  {{"count", s.generator.count},
                   {"min_bytes", s.generator.min_bytes},
                   {"max_bytes", s.generator.max_bytes}}}};
  const sim::ClientSpec& c = s.client;
  out["client"] = {{"connections_per_host", c.connections_per_host},
                   {"keep_alive", c.keep_alive},
                   {"http_version", c.http10 ? "1.0" : "1.1"},
                   {"pipelining", c.pipelining},
                   {"users", c.users}};
  const sim::ExperimentSpec& e = s.experiment;
  out["experiment"] = {{"repetitions", e.repetitions},
                       {"seed", e.seed},
                       {"parallelism", e.parallelism},
                       {"trial_timeout_ms", e.trial_timeout_ms},
                       {"hold_ms", e.hold_ms}};
  return out;
}

}  // namespace satlink::gui::form
