// Joins the replay's connections to the client link's: the replay's connect_end carries its
// local port (b), the client link's accept the peer port it accepted (b).
#include "metrics_handshake.hpp"

#include <algorithm>
#include <optional>

namespace satlink::simulator::metrics_detail {

namespace {

struct LinkSide {
  std::optional<std::int64_t> accept, setup_end;
  std::int64_t port = 0;
};

struct ClientSide {
  std::optional<std::int64_t> connect_start;
  std::int64_t port = 0;
};

}  // namespace

std::map<std::uint64_t, std::int64_t> emulated_handshake_ns(const std::vector<LogEvent>& events) {
  std::map<std::uint64_t, LinkSide> links;      // client link conn id ->
  std::map<std::uint64_t, ClientSide> clients;  // client conn id ->
  for (const LogEvent& e : events) {
    if (e.component == Component::client_link) {
      if (e.is(LinkEvent::accept)) {
        links[e.conn].accept = e.t_ns;
        links[e.conn].port = e.b;
      } else if (e.is(LinkEvent::setup_end)) {
        links[e.conn].setup_end = e.t_ns;
      }
    } else if (e.is(ClientEvent::connect_start)) {
      clients[e.conn].connect_start = e.t_ns;
    } else if (e.is(ClientEvent::connect_end)) {
      clients[e.conn].port = e.b;
    }
  }
  // Per port, the link's accepts in time order. A port can come back in a long trial (after its
  // TIME_WAIT): a browser connection takes the first accept of its port at or after its own
  // connect_start that no other connection took.
  std::map<std::int64_t, std::vector<std::pair<std::int64_t, std::uint64_t>>> by_port;
  for (const auto& [id, l] : links) {
    if (l.port > 0 && l.accept) by_port[l.port].emplace_back(*l.accept, id);
  }
  for (auto& [port, accepts] : by_port) std::sort(accepts.begin(), accepts.end());
  std::vector<std::pair<std::int64_t, std::uint64_t>> order;  // connect_start, client conn
  for (const auto& [id, c] : clients) {
    if (c.port > 0 && c.connect_start) order.emplace_back(*c.connect_start, id);
  }
  std::sort(order.begin(), order.end());
  std::map<std::uint64_t, std::int64_t> out;
  for (const auto& [start, id] : order) {
    const auto it = by_port.find(clients[id].port);
    if (it == by_port.end()) continue;
    auto& accepts = it->second;
    const auto a = std::lower_bound(accepts.begin(), accepts.end(),
                                    std::pair<std::int64_t, std::uint64_t>{start, 0});
    if (a == accepts.end()) continue;
    const LinkSide& l = links[a->second];
    if (l.setup_end) out[id] = std::max<std::int64_t>(0, *l.setup_end - *l.accept);
    accepts.erase(a);  // taken
  }
  return out;
}

}  // namespace satlink::simulator::metrics_detail
