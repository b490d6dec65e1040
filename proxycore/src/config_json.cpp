// Loads and validates the proxy configuration. Every input is treated as hostile: nothing here
// throws, recurses into the document, or echoes unbounded text back, and every problem is collected
// with its path so the operator sees all of them in one run instead of fixing them one at a time.
//
// Each struct has one table of fields that drives reading, writing and the list of allowed keys,
// so the three cannot drift apart and proxy_config_to_json always round-trips.
#include "satlink/proxycore/config_json.hpp"

#include <map>
#include <set>

#include "satlink/proxycore/json_reader.hpp"

namespace satlink::proxycore {
namespace config_json_detail {

using namespace json_reader;

constexpr std::uint64_t kMinHeader = 1024;
constexpr std::uint64_t kMaxHeader = 1024 * 1024;
constexpr std::array kReusePolicies{ReusePolicy::never, ReusePolicy::safe, ReusePolicy::always};
constexpr std::array kBalances{Balance::roundrobin, Balance::leastconn};
constexpr std::array kTlsVersions{TlsVersion::any, TlsVersion::v1_2, TlsVersion::v1_3};

template <auto M>
constexpr Field<StructOf<M>> millis(std::string_view key) {
  return {key,
          [](Reader& r, const json& v, StructOf<M>& s) {
            if (auto n = r.integer(v, 1, kMaxTimeoutMs))
              s.*M = Millis(static_cast<Millis::rep>(*n));
          },
          [](const StructOf<M>& s) { return json((s.*M).count()); }};
}

// The proxy's own structure: backends with unique names, routes that name them.
class ProxyReader : public Reader {
 public:
  using Reader::Reader;
  void read_root(const json& root, ProxyConfig& c);

 private:
  void read_backends(const json& root, ProxyConfig& c);
  void read_backend(const json& v, BackendConfig& b);
  void read_servers(const json& v, BackendConfig& b);
  void read_routes(const json& v, ProxyConfig& c);
  void check_backend_exists(const std::string& name) {
    if (backend_names_ && !backend_names_->contains(name)) fail("unknown backend " + quote(name));
  }
  // Names of the backends read; absent when "backends" or a backend's name was unusable, so that
  // one mistake does not also flag every route.
  std::optional<std::set<std::string>> backend_names_;
};

// The two sides share TlsSettings but not its meaning, so each accepts only its own keys.
constexpr std::array kClientTls{
    flag<&TlsSettings::enabled>("enabled"),
    text<&TlsSettings::cert_file>("cert_file"),
    text<&TlsSettings::key_file>("key_file"),
    choice<&TlsSettings::version, kTlsVersions>("version"),
    flag<&TlsSettings::session_resumption>("session_resumption"),
};
constexpr std::array kBackendTls{
    flag<&TlsSettings::enabled>("enabled"),
    text<&TlsSettings::ca_file>("ca_file"),
    text<&TlsSettings::server_name>("server_name"),
    flag<&TlsSettings::verify>("verify"),
    choice<&TlsSettings::version, kTlsVersions>("version"),
    flag<&TlsSettings::session_resumption>("session_resumption"),
};
// An empty pair means "generate a self-signed one"; half a pair is always a mistake.
constexpr Field<ClientSide> kClientTlsField{
    "tls",
    [](Reader& r, const json& v, ClientSide& c) {
      if (r.object(v, c.tls, kClientTls) && c.tls.cert_file.empty() != c.tls.key_file.empty()) {
        r.fail("cert_file and key_file must both be set or both be empty, got cert_file " +
               quote(c.tls.cert_file) + " and key_file " + quote(c.tls.key_file));
      }
    },
    [](const ClientSide& c) { return write_object(c.tls, kClientTls); }};
constexpr std::array kClient{
    text<&ClientSide::bind, host_like>("bind"),
    number<&ClientSide::port, 0, kMaxPort>("port"),
    flag<&ClientSide::keep_alive>("keep_alive"),
    number<&ClientSide::max_requests, 0, kMaxU32>("max_requests"),
    number<&ClientSide::max_header_bytes, kMinHeader, kMaxHeader>("max_header_bytes"),
    number<&ClientSide::max_body_bytes, 0, kMaxU64>("max_body_bytes"),
    flag<&ClientSide::add_via>("add_via"),
    flag<&ClientSide::add_x_forwarded_for>("add_x_forwarded_for"),
    kClientTlsField,
};
constexpr std::array kServerSide{
    flag<&ServerSide::keep_alive>("keep_alive"),
    choice<&ServerSide::reuse, kReusePolicies>("reuse"),
    number<&ServerSide::max_idle_per_server, 0, kMaxU32>("max_idle_per_server"),
    number<&ServerSide::max_header_bytes, kMinHeader, kMaxHeader>("max_header_bytes"),
    number<&ServerSide::retries, 0, kMaxU32>("retries"),
};
constexpr std::array kTimeouts{
    millis<&Timeouts::client>("client_ms"),
    millis<&Timeouts::server>("server_ms"),
    millis<&Timeouts::connect>("connect_ms"),
    millis<&Timeouts::http_request>("http_request_ms"),
    millis<&Timeouts::http_keep_alive>("http_keep_alive_ms"),
    millis<&Timeouts::queue>("queue_ms"),
    millis<&Timeouts::pool_idle>("pool_idle_ms"),
    millis<&Timeouts::grace>("grace_ms"),
};
constexpr std::array kServer{
    text<&ServerConfig::name, non_empty>("name"),
    text<&ServerConfig::host, host_like>("host"),
    number<&ServerConfig::port, 1, kMaxPort>("port"),
    number<&ServerConfig::maxconn, 0, kMaxU32>("maxconn"),
};
constexpr std::array kBackend{
    text<&BackendConfig::name, non_empty>("name"),
    choice<&BackendConfig::balance, kBalances>("balance"),
    number<&BackendConfig::queue_limit, 0, kMaxU32>("queue_limit"),
    nested<&BackendConfig::tls, kBackendTls>("tls"),
};  // + "servers", read by ProxyReader::read_servers
constexpr std::array kRoute{
    text<&Route::host>("host"),
    text<&Route::path_prefix>("path_prefix"),
    text<&Route::backend>("backend"),
};
constexpr std::array kStats{
    flag<&StatsConfig::enabled>("enabled"),
    text<&StatsConfig::bind, host_like>("bind"),
    number<&StatsConfig::port, 0, kMaxPort>("port"),
};
constexpr std::array kRoot{
    nested<&ProxyConfig::client, kClient>("client"),
    nested<&ProxyConfig::server, kServerSide>("server"),
    nested<&ProxyConfig::timeouts, kTimeouts>("timeouts"),
    text<&ProxyConfig::default_backend>("default_backend"),
    text<&ProxyConfig::via_name, http_token>("via_name"),
    number<&ProxyConfig::threads, 1, 256>("threads"),
    nested<&ProxyConfig::stats, kStats>("stats"),
};  // + "backends" and "routes", read by ProxyReader::read_backends and ::read_routes

void ProxyReader::read_root(const json& root, ProxyConfig& c) {
  if (!object(root, c, kRoot, {"backends", "routes"})) return;
  read_backends(root, c);
  field(root, "routes", [&](const json& v) { read_routes(v, c); });
  field(root, "default_backend", [&](const json& v) {
    if (v.is_string() && !c.default_backend.empty()) check_backend_exists(c.default_backend);
  });
}

void ProxyReader::read_backends(const json& root, ProxyConfig& c) {
  Segment s = enter("backends");
  auto it = root.find("backends");
  if (it == root.end()) return fail("is required (an array of at least one backend)");
  std::map<std::string, std::size_t> seen;  // name -> index of its first use
  bool is_array = each(*it, "backends", [&](const json& v, std::size_t i) {
    BackendConfig b;
    read_backend(v, b);
    if (b.name.empty()) {
      // already reported, or not an object
    } else if (auto [first, inserted] = seen.emplace(b.name, i); !inserted) {
      Segment n = enter("name");
      fail("duplicate backend name " + quote(b.name) + " (also backends[" +
           std::to_string(first->second) + "])");
    }
    c.backends.push_back(std::move(b));
  });
  if (!is_array) return;
  if (it->empty()) fail("must contain at least one backend");
  // A backend without a usable name might be the one a route means; don't guess.
  bool all_named = std::all_of(c.backends.begin(), c.backends.end(),
                               [](const BackendConfig& b) { return !b.name.empty(); });
  if (!all_named) return;
  backend_names_.emplace();
  for (const auto& [name, index] : seen) backend_names_->insert(name);
}

void ProxyReader::read_backend(const json& v, BackendConfig& b) {
  if (!object(v, b, kBackend, {"servers"})) return;
  for (std::string_view key : {"name", "servers"}) {
    if (v.contains(key)) continue;
    Segment k = enter(key);
    fail(key == "name" ? "is required" : "is required (an array of at least one server)");
  }
  field(v, "servers", [&](const json& servers) { read_servers(servers, b); });
}

void ProxyReader::read_servers(const json& v, BackendConfig& b) {
  std::map<std::string, std::size_t> seen;
  bool is_array = each(v, "servers", [&](const json& sv, std::size_t i) {
    ServerConfig server;
    server.name = "s" + std::to_string(i + 1);  // the default when "name" is absent
    if (!object(sv, server, kServer)) return;
    if (!sv.contains("port")) {
      Segment p = enter("port");
      fail("is required");
    }
    if (auto [first, inserted] = seen.emplace(server.name, i); !inserted && !server.name.empty()) {
      Segment n = enter("name");
      bool named = sv.contains("name");
      fail((named ? "duplicate server name " : "default name ") + quote(server.name) +
           (named ? " (also servers[" : " duplicates servers[") + std::to_string(first->second) +
           "]" + (named ? ")" : "; give this server a name"));
    }
    b.servers.push_back(std::move(server));
  });
  if (is_array && v.empty()) fail("must contain at least one server");
}

void ProxyReader::read_routes(const json& v, ProxyConfig& c) {
  each(v, "routes", [&](const json& rv, std::size_t) {
    Route r;
    if (!object(rv, r, kRoute)) return;
    Segment s = enter("backend");
    auto it = rv.find("backend");
    if (it == rv.end()) {
      fail("is required");
    } else if (it->is_string()) {
      check_backend_exists(r.backend);
    }
    c.routes.push_back(std::move(r));
  });
}

}  // namespace config_json_detail

using namespace config_json_detail;

ConfigResult proxy_config_from_json(const json& j, const std::string& base_path) {
  ConfigResult result;
  try {
    ProxyReader(base_path, result.errors).read_root(j, result.config);
  } catch (const json::exception& e) {
    // The reader checks every type before access, so this is a bug, but never the caller's crash.
    result.errors.push_back({base_path, std::string("internal error: ") + e.what()});
  }
  return result;
}

ConfigResult proxy_config_from_file(const std::string& file) {
  ConfigResult result;
  if (auto j = read_json_file(file, result.errors)) return proxy_config_from_json(*j);
  return result;
}

json proxy_config_to_json(const ProxyConfig& c) {
  json j = write_object(c, kRoot);
  json& backends = j["backends"] = json::array();
  for (const BackendConfig& b : c.backends) {
    json& out = backends.emplace_back(write_object(b, kBackend));
    json& servers = out["servers"] = json::array();
    for (const ServerConfig& s : b.servers) servers.push_back(write_object(s, kServer));
  }
  json& routes = j["routes"] = json::array();
  for (const Route& r : c.routes) routes.push_back(write_object(r, kRoute));
  return j;
}

}  // namespace satlink::proxycore
