// Tests for the proxy configuration documents and files that are rejected, and for what is said
// about them: each wrong type and out-of-range value, unknown keys, missing and duplicate names,
// references to unknown backends, the paths and reasons of the errors (quoted, prefixed, all
// reported together, capped, safe to print), format_errors, and files that cannot be read, are not
// JSON or are too large. Accepted documents are in config_json_test.cpp.
#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config_json_helpers.hpp"
#include "satlink/proxycore/config.hpp"
#include "satlink/proxycore/config_json.hpp"

namespace satlink::proxycore {
namespace {

using nlohmann::json;
using namespace config_json_test;

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

TEST(ConfigJson, FormatErrorsWritesOneLinePerError) {
  EXPECT_EQ(format_errors({}), "");
  EXPECT_EQ(format_errors({{"", "must be an object, got 3"}, {"client.port", "bad"}}),
            "(root): must be an object, got 3\nclient.port: bad\n");
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

}  // namespace
}  // namespace satlink::proxycore
