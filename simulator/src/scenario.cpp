#include "satlink/simulator/scenario.hpp"

#include <algorithm>

namespace satlink::simulator {

std::string_view to_string(Mode m) {
  switch (m) {
    case Mode::no_proxy: return "no-proxy";
    case Mode::keep_alive: return "keep-alive";
    case Mode::server_close: return "server-close";
    case Mode::close: return "close";
    case Mode::client_close: return "client-close";
  }
  return "?";
}

const std::vector<Mode>& all_modes() {
  static const std::vector<Mode> modes{Mode::no_proxy, Mode::keep_alive, Mode::server_close,
                                       Mode::close, Mode::client_close};
  return modes;
}

bool parse(std::string_view s, Mode& out) {
  for (Mode m : all_modes())
    if (s == to_string(m)) return out = m, true;
  return false;
}

ModeSides sides(Mode m) {
  switch (m) {
    case Mode::no_proxy: return {false, true, true};
    case Mode::keep_alive: return {true, true, true};
    case Mode::server_close: return {true, true, false};
    case Mode::close: return {true, false, false};
    case Mode::client_close: return {true, false, true};
  }
  return {};
}

// A tenth stylesheets, a fifth scripts, the rest images: the mix of a typical page.
Page resolved_page(const Scenario& s) {
  if (s.generator.count == 0) return s.page;
  Page page = s.page;
  page.resources.clear();
  Rng rng(s.experiment.seed ^ 0x70a6e5ULL);
  const PageGenerator& g = s.generator;
  const std::uint32_t css = (g.count + 9) / 10;
  const std::uint32_t js = (g.count + 4) / 5;
  for (std::uint32_t i = 0; i < g.count; ++i) {
    const std::uint64_t span = g.max_bytes - g.min_bytes;
    const std::uint64_t size = g.min_bytes + (span == 0 ? 0 : rng.next() % (span + 1));
    const std::string n = std::to_string(i);
    if (i < css) {
      page.resources.push_back({"/css/" + n + ".css", "text/css", size, std::nullopt});
    } else if (i < css + js) {
      page.resources.push_back({"/js/" + n + ".js", "application/javascript", size, std::nullopt});
    } else {
      page.resources.push_back({"/img/" + n + ".png", "image/png", size, std::nullopt});
    }
  }
  return page;
}

// --set and sweeps: a value written into the document at a JSON path, before loading.
nlohmann::json parse_override_value(std::string_view text) {
  auto v = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return v.is_discarded() ? nlohmann::json(std::string(text)) : v;
}

// Paths are keys joined by dots with [N] for array elements: "page.resources[0].size".
std::optional<ScenarioError> apply_override(nlohmann::json& doc, std::string_view path,
                                            const nlohmann::json& value) {
  const std::string full(path);
  auto fail = [&](std::string reason) { return ScenarioError{full, std::move(reason)}; };
  if (path.empty()) return fail("empty path");
  nlohmann::json* at = &doc;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '[') {
      const std::size_t close = path.find(']', i);
      if (close == std::string_view::npos) return fail("unclosed [ in the path");
      const std::string digits(path.substr(i + 1, close - i - 1));
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
        return fail("[" + digits + "] is not an array index");
      const std::size_t index = std::stoul(digits);
      if (!at->is_array() || index >= at->size())
        return fail("[" + digits + "] is not an element of an array here");
      at = &(*at)[index];
      i = close + 1;
      if (i < path.size() && path[i] == '.') ++i;
      continue;
    }
    const std::size_t end = std::min(path.find('.', i), path.find('[', i));
    const std::string key(path.substr(i, end == std::string_view::npos ? path.npos : end - i));
    if (key.empty()) return fail("empty key in the path");
    if (at->is_null()) *at = nlohmann::json::object();
    if (!at->is_object()) return fail("'" + key + "' cannot be set: its parent is not an object");
    at = &(*at)[key];
    i = end == std::string_view::npos ? path.size() : end;
    if (i < path.size() && path[i] == '.') ++i;
  }
  *at = value;
  return std::nullopt;
}

std::optional<ScenarioError> apply_override(nlohmann::json& doc, std::string_view assignment) {
  const std::size_t eq = assignment.find('=');
  if (eq == std::string_view::npos)
    return ScenarioError{std::string(assignment), "must be PATH=VALUE"};
  return apply_override(doc, assignment.substr(0, eq), parse_override_value(assignment.substr(eq + 1)));
}

}  // namespace satlink::simulator
