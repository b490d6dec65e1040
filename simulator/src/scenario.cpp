#include "satlink/simulator/scenario.hpp"

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

}  // namespace satlink::simulator
