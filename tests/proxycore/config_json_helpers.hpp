// Shared by config_json_test.cpp (accepted configurations, writing) and
// config_json_errors_test.cpp (rejected configurations and their messages): the two documents the
// tests start from, the helpers that load and edit them, and a temporary file. Inline in a
// namespace of their own, so both test files share one definition (one TempFile counter, hence
// distinct file names) and neither warns about a helper it does not use.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "satlink/proxycore/config.hpp"
#include "satlink/proxycore/config_json.hpp"

namespace satlink::proxycore::config_json_test {

using nlohmann::json;

inline json minimal_doc() {
  return json::parse(R"({"backends": [{"name": "app", "servers": [{"port": 8000}]}]})");
}

// Every key of the documented shape, each with a value other than its default.
inline json full_doc() {
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

inline ConfigResult load(const json& j, const std::string& base = "") {
  return proxy_config_from_json(j, base);
}

// Sets `value` at a JSON pointer in a copy of `doc`.
inline json with(json doc, const std::string& pointer, const json& value) {
  doc[json::json_pointer(pointer)] = value;
  return doc;
}

inline void expect_single_error(const json& doc, const std::string& path,
                                const std::string& reason) {
  ConfigResult r = load(doc);
  ASSERT_EQ(r.errors.size(), 1u) << format_errors(r.errors);
  EXPECT_EQ(r.errors[0].path, path);
  EXPECT_EQ(r.errors[0].reason, reason);
}

// A file in the temporary directory, removed again by the destructor.
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

}  // namespace satlink::proxycore::config_json_test
