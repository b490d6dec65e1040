// Tests for loading and writing the proxy configuration: the defaults and every field of a valid
// document, the edges of each range, proxy_config_to_json and round trips, loading a valid file,
// and mutated documents and files (which must never throw). Rejected documents and files, and
// their error messages, are in config_json_errors_test.cpp. Configurations are compared through
// dump_config(), written here field by field, so a field that proxy_config_to_json forgets shows
// up as a difference instead of vanishing on both sides of the comparison.
#include "satlink/proxycore/config_json.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config_json_helpers.hpp"
#include "satlink/proxycore/config.hpp"

namespace satlink::proxycore {
namespace {

using nlohmann::json;
using namespace config_json_test;

std::string dump_tls(const TlsSettings& t) {
  std::ostringstream o;
  o << "enabled=" << t.enabled << " cert=" << t.cert_file << " key=" << t.key_file
    << " ca=" << t.ca_file << " sni=" << t.server_name << " verify=" << t.verify
    << " version=" << to_string(t.version) << " resumption=" << t.session_resumption;
  return o.str();
}

std::string dump_config(const ProxyConfig& c) {
  std::ostringstream o;
  const ClientSide& cl = c.client;
  o << "client: bind=" << cl.bind << " port=" << cl.port << " keep_alive=" << cl.keep_alive
    << " max_requests=" << cl.max_requests << " max_header=" << cl.max_header_bytes
    << " max_body=" << cl.max_body_bytes << " via=" << cl.add_via
    << " xff=" << cl.add_x_forwarded_for << "\n  tls: " << dump_tls(cl.tls) << "\n";
  const ServerSide& s = c.server;
  o << "server: keep_alive=" << s.keep_alive << " reuse=" << to_string(s.reuse)
    << " idle=" << s.max_idle_per_server << " max_header=" << s.max_header_bytes
    << " retries=" << s.retries << "\n";
  const Timeouts& t = c.timeouts;
  o << "timeouts: " << t.client.count() << " " << t.server.count() << " " << t.connect.count()
    << " " << t.http_request.count() << " " << t.http_keep_alive.count() << " " << t.queue.count()
    << " " << t.pool_idle.count() << " " << t.grace.count() << "\n";
  for (const BackendConfig& b : c.backends) {
    o << "backend " << b.name << " balance=" << to_string(b.balance)
      << " queue_limit=" << b.queue_limit << "\n  tls: " << dump_tls(b.tls) << "\n";
    for (const ServerConfig& sv : b.servers) {
      o << "  server " << sv.name << " " << sv.host << ":" << sv.port << " maxconn=" << sv.maxconn
        << "\n";
    }
  }
  for (const Route& r : c.routes) {
    o << "route host=" << r.host << " prefix=" << r.path_prefix << " -> " << r.backend << "\n";
  }
  o << "default_backend=" << c.default_backend << " via_name=" << c.via_name
    << " threads=" << c.threads << "\nstats: enabled=" << c.stats.enabled
    << " bind=" << c.stats.bind << " port=" << c.stats.port << "\n";
  return o.str();
}

TEST(ConfigStrings, SpellEveryEnumerator) {
  EXPECT_EQ(to_string(ReusePolicy::never), "never");
  EXPECT_EQ(to_string(ReusePolicy::safe), "safe");
  EXPECT_EQ(to_string(ReusePolicy::always), "always");
  EXPECT_EQ(to_string(Balance::roundrobin), "roundrobin");
  EXPECT_EQ(to_string(Balance::leastconn), "leastconn");
  EXPECT_EQ(to_string(TlsVersion::any), "any");
  EXPECT_EQ(to_string(TlsVersion::v1_2), "1.2");
  EXPECT_EQ(to_string(TlsVersion::v1_3), "1.3");
}

TEST(ConfigJson, MinimalDocumentKeepsEveryDefault) {
  ConfigResult r = load(minimal_doc());
  ASSERT_TRUE(r.ok()) << format_errors(r.errors);
  ProxyConfig expected;
  expected.backends.emplace_back().name = "app";
  ServerConfig& server = expected.backends[0].servers.emplace_back();
  server.name = "s1";
  server.port = 8000;
  EXPECT_EQ(dump_config(r.config), dump_config(expected));
  // Spot checks, in case the defaults in config.hpp and dump_config drift together.
  EXPECT_EQ(r.config.client.port, 8080);
  EXPECT_EQ(r.config.server.reuse, ReusePolicy::safe);
  EXPECT_EQ(r.config.timeouts.connect, Millis(5000));
  EXPECT_EQ(r.config.backends[0].servers[0].host, "127.0.0.1");
  EXPECT_EQ(r.config.via_name, "satlink");
}

TEST(ConfigJson, FullDocumentSetsEveryField) {
  ConfigResult r = load(full_doc());
  ASSERT_TRUE(r.ok()) << format_errors(r.errors);
  const ProxyConfig& c = r.config;
  EXPECT_EQ(c.client.bind, "0.0.0.0");
  EXPECT_EQ(c.client.port, 9090);
  EXPECT_FALSE(c.client.keep_alive);
  EXPECT_EQ(c.client.max_requests, 100u);
  EXPECT_EQ(c.client.max_header_bytes, 8192u);
  EXPECT_EQ(c.client.max_body_bytes, 1048576u);
  EXPECT_FALSE(c.client.add_via);
  EXPECT_FALSE(c.client.add_x_forwarded_for);
  EXPECT_TRUE(c.client.tls.enabled);
  EXPECT_EQ(c.client.tls.cert_file, "c.pem");
  EXPECT_EQ(c.client.tls.key_file, "k.pem");
  EXPECT_EQ(c.client.tls.version, TlsVersion::v1_3);
  EXPECT_FALSE(c.client.tls.session_resumption);
  EXPECT_FALSE(c.server.keep_alive);
  EXPECT_EQ(c.server.reuse, ReusePolicy::always);
  EXPECT_EQ(c.server.max_idle_per_server, 8u);
  EXPECT_EQ(c.server.max_header_bytes, 65536u);
  EXPECT_EQ(c.server.retries, 5u);
  EXPECT_EQ(c.timeouts.client, Millis(1));
  EXPECT_EQ(c.timeouts.server, Millis(2));
  EXPECT_EQ(c.timeouts.connect, Millis(3));
  EXPECT_EQ(c.timeouts.http_request, Millis(4));
  EXPECT_EQ(c.timeouts.http_keep_alive, Millis(5));
  EXPECT_EQ(c.timeouts.queue, Millis(6));
  EXPECT_EQ(c.timeouts.pool_idle, Millis(7));
  EXPECT_EQ(c.timeouts.grace, Millis(86400000));
  ASSERT_EQ(c.backends.size(), 2u);
  const BackendConfig& app = c.backends[0];
  EXPECT_EQ(app.name, "app");
  EXPECT_EQ(app.balance, Balance::leastconn);
  EXPECT_EQ(app.queue_limit, 10u);
  EXPECT_TRUE(app.tls.enabled);
  EXPECT_EQ(app.tls.ca_file, "ca.pem");
  EXPECT_EQ(app.tls.server_name, "origin.example");
  EXPECT_TRUE(app.tls.verify);
  EXPECT_EQ(app.tls.version, TlsVersion::v1_2);
  EXPECT_FALSE(app.tls.session_resumption);
  ASSERT_EQ(app.servers.size(), 2u);
  EXPECT_EQ(app.servers[0].name, "a");
  EXPECT_EQ(app.servers[0].host, "10.0.0.1");
  EXPECT_EQ(app.servers[0].port, 8001);
  EXPECT_EQ(app.servers[0].maxconn, 4u);
  EXPECT_EQ(app.servers[1].name, "s2");  // unnamed: named after its position
  EXPECT_EQ(app.servers[1].port, 65535);
  EXPECT_EQ(c.backends[1].servers[0].host, "api.local");
  ASSERT_EQ(c.routes.size(), 2u);
  EXPECT_EQ(c.routes[0].host, "api.example");
  EXPECT_EQ(c.routes[0].path_prefix, "/v1");
  EXPECT_EQ(c.routes[0].backend, "api");
  EXPECT_EQ(c.routes[1].host, "");
  EXPECT_EQ(c.default_backend, "api");
  EXPECT_EQ(c.via_name, "edge-1");
  EXPECT_EQ(c.threads, 4u);
  EXPECT_TRUE(c.stats.enabled);
  EXPECT_EQ(c.stats.bind, "::1");
  EXPECT_EQ(c.stats.port, 9100);
}

TEST(ConfigJson, AcceptsTheEdgesOfEachRange) {
  json doc = full_doc();
  doc["client"]["port"] = 0;
  doc["client"]["max_header_bytes"] = 1048576;
  doc["client"]["max_body_bytes"] = 18446744073709551615u;
  doc["server"]["max_header_bytes"] = 1024;
  doc["timeouts"]["client_ms"] = 86400000;
  doc["threads"] = 256;
  doc["stats"]["port"] = 65535;
  doc["backends"][0]["servers"][0]["maxconn"] = 4294967295u;
  doc["server"]["retries"] = std::int64_t{3};  // a signed integer, as code (not parse) makes it
  ConfigResult r = load(doc);
  ASSERT_TRUE(r.ok()) << format_errors(r.errors);
  EXPECT_EQ(r.config.client.max_body_bytes, 18446744073709551615u);
  EXPECT_EQ(r.config.threads, 256u);
  EXPECT_EQ(r.config.server.retries, 3u);
}
TEST(ConfigJson, ToJsonWritesTheWholeShape) {
  json j = proxy_config_to_json(load(minimal_doc()).config);
  auto keys = [](const json& o) {
    std::set<std::string> out;
    for (const auto& item : o.items()) out.insert(item.key());
    return out;
  };
  using Keys = std::set<std::string>;
  EXPECT_EQ(keys(j), (Keys{"client", "server", "timeouts", "backends", "routes", "default_backend",
                           "via_name", "threads", "stats"}));
  EXPECT_EQ(keys(j["client"]).size(), 9u);
  EXPECT_EQ(keys(j["client"]["tls"]),
            (Keys{"enabled", "cert_file", "key_file", "version", "session_resumption"}));
  EXPECT_EQ(keys(j["server"]).size(), 5u);
  EXPECT_EQ(keys(j["timeouts"]).size(), 8u);
  EXPECT_EQ(keys(j["backends"][0]), (Keys{"name", "balance", "queue_limit", "tls", "servers"}));
  EXPECT_EQ(keys(j["backends"][0]["tls"]),
            (Keys{"enabled", "ca_file", "server_name", "verify", "version", "session_resumption"}));
  EXPECT_EQ(keys(j["backends"][0]["servers"][0]), (Keys{"name", "host", "port", "maxconn"}));
  EXPECT_EQ(keys(j["stats"]), (Keys{"enabled", "bind", "port"}));
  EXPECT_EQ(j["server"]["reuse"], "safe");
  EXPECT_EQ(j["timeouts"]["connect_ms"], 5000);
  EXPECT_EQ(j["backends"][0]["servers"][0]["name"], "s1");
}

TEST(ConfigJson, RoundTripsEveryField) {
  for (const json& doc : {minimal_doc(), full_doc()}) {
    ConfigResult first = load(doc);
    ASSERT_TRUE(first.ok()) << format_errors(first.errors);
    json written = proxy_config_to_json(first.config);
    ConfigResult second = load(written);
    ASSERT_TRUE(second.ok()) << format_errors(second.errors) << written.dump(2);
    EXPECT_EQ(dump_config(second.config), dump_config(first.config));
    EXPECT_EQ(proxy_config_to_json(second.config), written);
  }
  // The full document is already in its written form, apart from defaults it leaves out.
  json written = proxy_config_to_json(load(full_doc()).config);
  EXPECT_EQ(written["client"], full_doc()["client"]);
  EXPECT_EQ(written["timeouts"], full_doc()["timeouts"]);
}

TEST(ConfigJsonFile, LoadsAValidFile) {
  TempFile f(full_doc().dump(2));
  ConfigResult r = proxy_config_from_file(f.path());
  ASSERT_TRUE(r.ok()) << format_errors(r.errors);
  EXPECT_EQ(dump_config(r.config), dump_config(load(full_doc()).config));
}

// Replaces, removes or adds values at random places in a valid document.
class Mutator {
 public:
  explicit Mutator(std::uint32_t seed) : rng_(seed) {}

  void mutate(json& doc) {
    std::vector<json*> nodes;
    collect(doc, nodes);
    json& target = *nodes[pick(nodes.size())];
    switch (pick(4)) {
      case 0:
        target = random_value();
        break;
      case 1:
        if (target.is_object() && !target.empty()) {
          auto it = target.begin();
          std::advance(it, static_cast<std::ptrdiff_t>(pick(target.size())));
          target.erase(it);
        } else if (target.is_array() && !target.empty()) {
          target.erase(pick(target.size()));
        }
        break;
      case 2:
        if (target.is_object()) target["k" + std::to_string(pick(3))] = random_value();
        if (target.is_array()) target.push_back(random_value());
        break;
      default:
        if (target.is_array() && !target.empty()) target.push_back(target[pick(target.size())]);
        break;
    }
  }
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }

 private:
  static void collect(json& j, std::vector<json*>& out) {
    out.push_back(&j);
    if (j.is_structured()) {
      for (json& child : j) collect(child, out);
    }
  }
  json random_value() {
    static const std::vector<json> pool = {
        nullptr,
        true,
        false,
        0,
        1,
        -1,
        65535,
        65536,
        1.5,
        1e300,
        4294967296u,
        18446744073709551615u,
        std::int64_t{-9223372036854775807 - 1},
        "",
        "app",
        "api",
        "s1",
        "never",
        "leastconn",
        "1.3",
        "a b",
        "\x01",
        json::array(),
        json::object(),
        json::array({1, "x"}),
        json{{"port", 1}},
        json{{"name", "app"}},
    };
    return pool[pick(pool.size())];
  }
  std::mt19937 rng_;
};

TEST(ConfigJsonFuzz, MutatedDocumentsNeverThrow) {
  Mutator m(20240601);
  int accepted = 0;
  for (int i = 0; i < 200; ++i) {
    json doc = full_doc();
    for (std::size_t n = 1 + m.pick(3); n > 0; --n) m.mutate(doc);
    SCOPED_TRACE(doc.dump());
    ConfigResult r;
    ASSERT_NO_THROW(r = load(doc, i % 2 == 0 ? "" : "proxy"));
    for (const ConfigError& e : r.errors) {
      EXPECT_FALSE(e.reason.empty());
      // The catch in proxy_config_from_json is a safety net; a fall into it is a missed check.
      EXPECT_EQ(e.reason.find("internal error"), std::string::npos) << e.path << ": " << e.reason;
    }
    if (!r.ok()) continue;
    // Whatever was accepted must survive being written out and read back.
    ++accepted;
    json written = proxy_config_to_json(r.config);
    ConfigResult again = load(written);
    ASSERT_TRUE(again.ok()) << format_errors(again.errors);
    EXPECT_EQ(dump_config(again.config), dump_config(r.config));
  }
  EXPECT_GT(accepted, 0);  // otherwise the round-trip half of this test checks nothing
}

TEST(ConfigJsonFuzz, MutatedFileTextNeverThrows) {
  Mutator m(7);
  const std::string text = full_doc().dump(1);
  TempFile f("");
  for (int i = 0; i < 200; ++i) {
    std::string mutated = text;
    for (std::size_t n = 1 + m.pick(4); n > 0; --n) {
      std::size_t at = m.pick(mutated.size());
      switch (m.pick(3)) {
        case 0:
          mutated[at] = static_cast<char>(m.pick(256));
          break;
        case 1:
          mutated.erase(at, 1 + m.pick(8));
          break;
        default:
          mutated.insert(at, 1, "{}[],:\"0-e.\\\n"[m.pick(13)]);
          break;
      }
    }
    f.write(mutated);
    ConfigResult r;
    ASSERT_NO_THROW(r = proxy_config_from_file(f.path())) << mutated;
    for (const ConfigError& e : r.errors) EXPECT_FALSE(e.reason.empty());
  }
}

}  // namespace
}  // namespace satlink::proxycore
