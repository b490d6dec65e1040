// Tests for loading, validating and writing the proxy configuration. Configurations are compared
// through dump_config(), written here field by field, so a field that proxy_config_to_json forgets
// shows up as a difference instead of vanishing on both sides of the comparison.
#include "satlink/proxycore/config_json.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "satlink/proxycore/config.hpp"

namespace satlink::proxycore {
namespace {

using nlohmann::json;

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

json minimal_doc() {
  return json::parse(R"({"backends": [{"name": "app", "servers": [{"port": 8000}]}]})");
}

// Every key of the documented shape, each with a value other than its default.
json full_doc() {
  return json::parse(R"({
    "client": {"bind": "0.0.0.0", "port": 9090, "keep_alive": false, "max_requests": 100,
               "max_header_bytes": 8192, "max_body_bytes": 1048576, "add_via": false,
               "add_x_forwarded_for": false,
               "tls": {"enabled": true, "cert_file": "c.pem", "key_file": "k.pem",
                       "version": "1.3", "session_resumption": false}},
    "server": {"keep_alive": false, "reuse": "always", "max_idle_per_server": 8,
               "max_header_bytes": 65536, "retries": 5},
    "timeouts": {"client_ms": 1, "server_ms": 2, "connect_ms": 3, "http_request_ms": 4,
                 "http_keep_alive_ms": 5, "queue_ms": 6, "pool_idle_ms": 7,
                 "grace_ms": 86400000},
    "backends": [
      {"name": "app", "balance": "leastconn", "queue_limit": 10,
       "tls": {"enabled": true, "ca_file": "ca.pem", "server_name": "origin.example",
               "verify": true, "version": "1.2", "session_resumption": false},
       "servers": [{"name": "a", "host": "10.0.0.1", "port": 8001, "maxconn": 4},
                   {"host": "10.0.0.2", "port": 65535}]},
      {"name": "api", "servers": [{"name": "x", "host": "api.local", "port": 1}]}
    ],
    "routes": [{"host": "api.example", "path_prefix": "/v1", "backend": "api"},
               {"path_prefix": "/", "backend": "app"}],
    "default_backend": "api",
    "via_name": "edge-1",
    "threads": 4,
    "stats": {"enabled": true, "bind": "::1", "port": 9100}
  })");
}

ConfigResult load(const json& j, const std::string& base = "") {
  return proxy_config_from_json(j, base);
}

// Sets `value` at a JSON pointer in a copy of `doc`.
json with(json doc, const std::string& pointer, const json& value) {
  doc[json::json_pointer(pointer)] = value;
  return doc;
}

void expect_single_error(const json& doc, const std::string& path, const std::string& reason) {
  ConfigResult r = load(doc);
  ASSERT_EQ(r.errors.size(), 1u) << format_errors(r.errors);
  EXPECT_EQ(r.errors[0].path, path);
  EXPECT_EQ(r.errors[0].reason, reason);
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() /
             ("satlink_config_test_" + std::to_string(::getpid()) + "_" +
              std::to_string(counter++) + ".json"))
                .string();
    write(content);
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  void write(const std::string& content) const {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << content;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

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

TEST(ConfigJson, ReasonsQuoteWhatWasFound) {
  json doc = full_doc();
  expect_single_error(with(doc, "/backends/0/servers/1/port", "http"),
                      "backends[0].servers[1].port",
                      "must be an integer in 1..65535, got \"http\"");
  expect_single_error(with(doc, "/client/keep_alive", 3), "client.keep_alive",
                      "must be a boolean, got 3");
  expect_single_error(with(doc, "/server/reuse", "sometimes"), "server.reuse",
                      "must be one of \"never\", \"safe\", \"always\", got \"sometimes\"");
  expect_single_error(with(doc, "/backends/0/balance", 1), "backends[0].balance",
                      "must be one of \"roundrobin\", \"leastconn\", got 1");
  expect_single_error(with(doc, "/client/tls/version", "1.1"), "client.tls.version",
                      "must be one of \"any\", \"1.2\", \"1.3\", got \"1.1\"");
  expect_single_error(with(doc, "/via_name", 7), "via_name", "must be a string, got 7");
  expect_single_error(with(doc, "/timeouts", json::array()), "timeouts",
                      "must be an object, got an array");
  expect_single_error(with(doc, "/routes", json::object()), "routes",
                      "must be an array of routes, got an object");
}

struct TypeCase {
  std::string pointer;
  json value;
  std::string path;
  std::string reason_start;
};

TEST(ConfigJson, RejectsEveryWrongTypeAndRange) {
  const std::vector<TypeCase> cases = {
      {"/client/port", 65536, "client.port", "must be an integer in 0..65535, got 65536"},
      {"/client/port", -1, "client.port", "must be an integer in 0..65535, got -1"},
      {"/client/port", 80.0, "client.port", "must be an integer in 0..65535, got 80.0"},
      {"/client/port", 1.5, "client.port", "must be an integer in 0..65535, got 1.5"},
      {"/client/port", nullptr, "client.port", "must be an integer in 0..65535, got null"},
      {"/client/port", true, "client.port", "must be an integer in 0..65535, got true"},
      {"/client/max_requests", 4294967296u, "client.max_requests", "must be an integer in 0.."},
      {"/client/max_header_bytes", 1023, "client.max_header_bytes", "must be an integer in 1024."},
      {"/client/max_header_bytes", 1048577, "client.max_header_bytes", "must be an integer"},
      {"/client/max_body_bytes", -5, "client.max_body_bytes", "must be an integer in 0.."},
      {"/client/add_via", "yes", "client.add_via", "must be a boolean, got \"yes\""},
      {"/client/add_x_forwarded_for", 1, "client.add_x_forwarded_for", "must be a boolean"},
      {"/client/bind", "", "client.bind", "must be a non-empty host"},
      {"/client/tls", "on", "client.tls", "must be an object, got \"on\""},
      {"/client/tls/enabled", "true", "client.tls.enabled", "must be a boolean"},
      {"/client/tls/session_resumption", nullptr, "client.tls.session_resumption", "must be a"},
      {"/server/max_idle_per_server", -1, "server.max_idle_per_server", "must be an integer"},
      {"/server/max_header_bytes", 0, "server.max_header_bytes", "must be an integer in 1024"},
      {"/server/retries", "2", "server.retries", "must be an integer in 0..4294967295, got \"2\""},
      {"/server/keep_alive", json::array(), "server.keep_alive", "must be a boolean, got an array"},
      {"/timeouts/client_ms", 0, "timeouts.client_ms", "must be an integer in 1..86400000, got 0"},
      {"/timeouts/grace_ms", 86400001, "timeouts.grace_ms", "must be an integer in 1..86400000"},
      {"/timeouts/connect_ms", 2.5, "timeouts.connect_ms", "must be an integer in 1..86400000"},
      {"/timeouts/queue_ms", "5s", "timeouts.queue_ms", "must be an integer"},
      {"/backends", "app", "backends", "must be an array of backends, got \"app\""},
      {"/backends/0", 5, "backends[0]", "must be an object, got 5"},
      {"/backends/0/name", 5, "backends[0].name", "must be a string, got 5"},
      {"/backends/0/queue_limit", 1e3, "backends[0].queue_limit", "must be an integer"},
      {"/backends/0/tls/verify", "no", "backends[0].tls.verify", "must be a boolean"},
      {"/backends/0/servers", json::object(), "backends[0].servers", "must be an array of"},
      {"/backends/0/servers/0", "10.0.0.1:80", "backends[0].servers[0]", "must be an object"},
      {"/backends/0/servers/0/host", 10, "backends[0].servers[0].host", "must be a string"},
      {"/backends/0/servers/0/host", "a b", "backends[0].servers[0].host", "must be a non-empty"},
      {"/backends/0/servers/0/port", 0, "backends[0].servers[0].port", "must be an integer in 1."},
      {"/backends/0/servers/0/maxconn", -1, "backends[0].servers[0].maxconn", "must be an int"},
      {"/routes/0", json::array(), "routes[0]", "must be an object, got an array"},
      {"/routes/0/path_prefix", false, "routes[0].path_prefix", "must be a string, got false"},
      {"/default_backend", json::object(), "default_backend", "must be a string, got an object"},
      {"/threads", 0, "threads", "must be an integer in 1..256, got 0"},
      {"/threads", 257, "threads", "must be an integer in 1..256, got 257"},
      {"/stats", true, "stats", "must be an object, got true"},
      {"/stats/port", 70000, "stats.port", "must be an integer in 0..65535, got 70000"},
      {"/stats/enabled", 0, "stats.enabled", "must be a boolean, got 0"},
  };
  for (const TypeCase& tc : cases) {
    SCOPED_TRACE(tc.pointer + " = " + tc.value.dump());
    ConfigResult r = load(with(full_doc(), tc.pointer, tc.value));
    ASSERT_EQ(r.errors.size(), 1u) << format_errors(r.errors);
    EXPECT_EQ(r.errors[0].path, tc.path);
    EXPECT_EQ(r.errors[0].reason.rfind(tc.reason_start, 0), 0u) << r.errors[0].reason;
  }
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

TEST(ConfigJson, RejectsUnknownKeysAtEveryDepth) {
  json doc = full_doc();
  doc["listen"] = 1;
  doc["client"]["tls"]["ca_file"] = "x";         // a backend-side key on the client side
  doc["backends"][0]["tls"]["cert_file"] = "x";  // and the other way round
  doc["backends"][1]["servers"][0]["weight"] = 3;
  doc["routes"][0]["method"] = "GET";
  doc["timeouts"]["read_ms"] = 5;
  doc["stats"]["path"] = "/stats";
  ConfigResult r = load(doc);
  std::vector<std::string> paths;
  for (const ConfigError& e : r.errors) paths.push_back(e.path);
  // Sections with only plain fields come first, then backends and routes.
  EXPECT_EQ(paths, (std::vector<std::string>{"listen", "client.tls.ca_file", "timeouts.read_ms",
                                             "stats.path", "backends[0].tls.cert_file",
                                             "backends[1].servers[0].weight", "routes[0].method"}))
      << format_errors(r.errors);
  for (const ConfigError& e : r.errors) EXPECT_EQ(e.reason.rfind("unknown key (allowed: ", 0), 0u);
  EXPECT_EQ(r.errors[1].reason,
            "unknown key (allowed: enabled, cert_file, key_file, version, session_resumption)");
  EXPECT_EQ(r.errors[4].reason,
            "unknown key (allowed: enabled, ca_file, server_name, verify, version, "
            "session_resumption)");
  EXPECT_EQ(r.errors[0].reason,
            "unknown key (allowed: client, server, timeouts, default_backend, via_name, threads, "
            "stats, backends, routes)");
}

TEST(ConfigJson, QuotesOddKeysInPaths) {
  json doc = minimal_doc();
  doc["client"]["a.b"] = 1;
  doc["client"][""] = 1;
  ConfigResult r = load(doc);
  ASSERT_EQ(r.errors.size(), 2u) << format_errors(r.errors);
  EXPECT_EQ(r.errors[0].path, "client[\"\"]");
  EXPECT_EQ(r.errors[1].path, "client[\"a.b\"]");
}

TEST(ConfigJson, ReportsAllErrorsTogether) {
  json doc = full_doc();
  doc["client"]["port"] = "http";
  doc["backends"][0]["servers"][1]["port"] = 0;
  doc["threads"] = 1.5;
  ConfigResult r = load(doc);
  ASSERT_EQ(r.errors.size(), 3u) << format_errors(r.errors);
  EXPECT_EQ(r.errors[0].path, "client.port");
  EXPECT_EQ(r.errors[1].path, "threads");
  EXPECT_EQ(r.errors[2].path, "backends[0].servers[1].port");
}

TEST(ConfigJson, BasePathPrefixesEveryPath) {
  json doc = with(full_doc(), "/backends/0/servers/1/port", "http");
  ConfigResult r = load(doc, "proxy");
  ASSERT_EQ(r.errors.size(), 1u) << format_errors(r.errors);
  EXPECT_EQ(r.errors[0].path, "proxy.backends[0].servers[1].port");

  r = load(json::array(), "proxy");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, "proxy");
}

TEST(ConfigJson, RootMustBeAnObject) {
  for (const json& root : {json(nullptr), json(3), json("x"), json::array(), json(true)}) {
    SCOPED_TRACE(root.dump());
    ConfigResult r = load(root);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].path, "");
    EXPECT_EQ(r.errors[0].reason.rfind("must be an object, got ", 0), 0u);
  }
}

TEST(ConfigJson, RequiresBackendsWithServers) {
  expect_single_error(json::object(), "backends", "is required (an array of at least one backend)");
  expect_single_error(json{{"backends", json::array()}}, "backends",
                      "must contain at least one backend");
  expect_single_error(json::parse(R"({"backends": [{"servers": [{"port": 1}]}]})"),
                      "backends[0].name", "is required");
  expect_single_error(json::parse(R"({"backends": [{"name": "", "servers": [{"port": 1}]}]})"),
                      "backends[0].name", "must not be empty");
  expect_single_error(json::parse(R"({"backends": [{"name": "a"}]})"), "backends[0].servers",
                      "is required (an array of at least one server)");
  expect_single_error(json::parse(R"({"backends": [{"name": "a", "servers": []}]})"),
                      "backends[0].servers", "must contain at least one server");
  expect_single_error(json::parse(R"({"backends": [{"name": "a", "servers": [{}]}]})"),
                      "backends[0].servers[0].port", "is required");
  expect_single_error(
      json::parse(R"({"backends": [{"name": "a", "servers": [{"host": "", "port": 1}]}]})"),
      "backends[0].servers[0].host",
      "must be a non-empty host or address without spaces or control characters");
}

TEST(ConfigJson, RejectsDuplicateNames) {
  json doc = full_doc();
  doc["backends"][1]["name"] = "app";
  doc["routes"][0]["backend"] = "app";
  doc["default_backend"] = "app";
  expect_single_error(doc, "backends[1].name", "duplicate backend name \"app\" (also backends[0])");

  expect_single_error(with(full_doc(), "/backends/0/servers/1/name", "a"),
                      "backends[0].servers[1].name",
                      "duplicate server name \"a\" (also servers[0])");
  // An unnamed server is called s<position>, which may collide with an explicit name.
  expect_single_error(with(full_doc(), "/backends/0/servers/0/name", "s2"),
                      "backends[0].servers[1].name",
                      "default name \"s2\" duplicates servers[0]; give this server a name");
  // The same server name in different backends is fine.
  EXPECT_TRUE(load(with(full_doc(), "/backends/1/servers/0/name", "a")).ok());
  expect_single_error(with(full_doc(), "/backends/0/servers/0/name", ""),
                      "backends[0].servers[0].name", "must not be empty");
}

TEST(ConfigJson, RoutesAndDefaultBackendMustNameABackend) {
  expect_single_error(with(full_doc(), "/routes/1/backend", "ghost"), "routes[1].backend",
                      "unknown backend \"ghost\"");
  expect_single_error(with(full_doc(), "/default_backend", "ghost"), "default_backend",
                      "unknown backend \"ghost\"");
  json doc = full_doc();
  doc["routes"][0].erase("backend");
  expect_single_error(doc, "routes[0].backend", "is required");
  // An empty default_backend means "the first backend".
  EXPECT_TRUE(load(with(full_doc(), "/default_backend", "")).ok());
  // With no usable backends list, only that one mistake is reported, not every route too.
  json broken = with(full_doc(), "/backends", 5);
  expect_single_error(broken, "backends", "must be an array of backends, got 5");
  expect_single_error(with(full_doc(), "/backends/1/name", 5), "backends[1].name",
                      "must be a string, got 5");
}

TEST(ConfigJson, ClientCertificateAndKeyComeAsAPair) {
  json doc = full_doc();
  doc["client"]["tls"]["key_file"] = "";
  expect_single_error(doc, "client.tls",
                      "cert_file and key_file must both be set or both be empty, got cert_file "
                      "\"c.pem\" and key_file \"\"");
  doc["client"]["tls"]["cert_file"] = "";
  EXPECT_TRUE(load(doc).ok());
}

TEST(ConfigJson, ViaNameMustBeAToken) {
  for (const char* bad : {"", "a b", "edge/1", "proxy,1", "x\ny"}) {
    SCOPED_TRACE(bad);
    ConfigResult r = load(with(minimal_doc(), "/via_name", bad));
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].path, "via_name");
    EXPECT_EQ(r.errors[0].reason.rfind("must be a non-empty token", 0), 0u);
  }
  EXPECT_TRUE(load(with(minimal_doc(), "/via_name", "a!#$%&'*+-.^_`|~9")).ok());
}

TEST(ConfigJson, HostileValuesAreNotEchoedInFull) {
  std::string huge(1 << 20, 'x');
  json doc = with(minimal_doc(), "/client/port", huge);
  doc["client"][huge] = 1;
  doc["client"]["keep_alive"] = "\x1b[31m\xe2\x80\xae";  // an escape sequence and a bidi override
  ConfigResult r = load(doc);
  ASSERT_EQ(r.errors.size(), 3u);
  for (const ConfigError& e : r.errors) {
    EXPECT_LT(e.path.size() + e.reason.size(), 400u);
    for (char ch : e.path + e.reason) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << int(ch);
  }
}

TEST(ConfigJson, CapsTheNumberOfErrors) {
  json doc = minimal_doc();
  doc["routes"] = json::array();
  for (int i = 0; i < 5000; ++i) doc["routes"].push_back({{"x", 1}});
  ConfigResult r = load(doc, "proxy");
  ASSERT_EQ(r.errors.size(), 1001u);
  EXPECT_EQ(r.errors[999].path, "proxy.routes[499].backend");
  EXPECT_EQ(r.errors[1000].path, "proxy");
  EXPECT_EQ(r.errors[1000].reason, "too many errors; only the first 1000 are reported");
}

TEST(ConfigJson, DeeplyNestedValuesDoNotOverflowTheStack) {
  std::string deep = R"({"client": )" + std::string(200000, '[') + std::string(200000, ']') +
                     R"(, "backends": 1})";
  json doc = json::parse(deep);
  ConfigResult r = load(doc);
  ASSERT_EQ(r.errors.size(), 2u) << format_errors(r.errors);
  EXPECT_EQ(r.errors[0].reason, "must be an object, got an array");
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

TEST(ConfigJson, FormatErrorsWritesOneLinePerError) {
  EXPECT_EQ(format_errors({}), "");
  EXPECT_EQ(format_errors({{"", "must be an object, got 3"}, {"client.port", "bad"}}),
            "(root): must be an object, got 3\nclient.port: bad\n");
}

TEST(ConfigJsonFile, LoadsAValidFile) {
  TempFile f(full_doc().dump(2));
  ConfigResult r = proxy_config_from_file(f.path());
  ASSERT_TRUE(r.ok()) << format_errors(r.errors);
  EXPECT_EQ(dump_config(r.config), dump_config(load(full_doc()).config));
}

TEST(ConfigJsonFile, ReportsAMissingFile) {
  ConfigResult r = proxy_config_from_file("/nonexistent/satlink.json");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, "");
  EXPECT_EQ(r.errors[0].reason, "cannot read /nonexistent/satlink.json: No such file or directory");
}

TEST(ConfigJsonFile, ReportsADirectory) {
  ConfigResult r = proxy_config_from_file(std::filesystem::temp_directory_path().string());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].reason.rfind("cannot read ", 0), 0u);
  EXPECT_NE(r.errors[0].reason.find("Is a directory"), std::string::npos) << r.errors[0].reason;
}

TEST(ConfigJsonFile, ReportsInvalidJsonWithLineAndColumn) {
  TempFile f("{\n  \"backends\": [],\n  \"threads\": x\n}\n");
  ConfigResult r = proxy_config_from_file(f.path());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, "");
  EXPECT_EQ(r.errors[0].reason.rfind("invalid JSON at line 3, column 14: ", 0), 0u)
      << r.errors[0].reason;

  f.write("{\"via_name\": \"\xff\"}");  // not UTF-8: the raw byte must not reach the message
  r = proxy_config_from_file(f.path());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].reason.rfind("invalid JSON at line 1, column 15: ", 0), 0u)
      << r.errors[0].reason;
  for (char ch : r.errors[0].reason) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << int(ch);

  f.write("");
  r = proxy_config_from_file(f.path());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].reason.rfind("invalid JSON at line 1, column 1: ", 0), 0u);
}

TEST(ConfigJsonFile, ValidationErrorsFromAFileHavePaths) {
  TempFile f(R"({"backends": [{"name": "a", "servers": [{"port": "http"}]}]})");
  ConfigResult r = proxy_config_from_file(f.path());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, "backends[0].servers[0].port");
}

TEST(ConfigJsonFile, RejectsFilesOver16MiB) {
  std::string padded = minimal_doc().dump();
  padded.insert(1, 16 * 1024 * 1024 - padded.size(), ' ');  // exactly 16 MiB: still accepted
  TempFile f(padded);
  EXPECT_TRUE(proxy_config_from_file(f.path()).ok());
  f.write(padded + " ");
  ConfigResult r = proxy_config_from_file(f.path());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].reason, "cannot read " + f.path() + ": larger than 16 MiB");
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
