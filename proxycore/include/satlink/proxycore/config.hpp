// Types only: the proxy's configuration. No Boost, no behaviour (see config_json.hpp for loading).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace satlink::proxycore {

using Millis = std::chrono::milliseconds;

// HAProxy's `http-reuse`: may a request go on an idle server connection another client used?
enum class ReusePolicy {
  never,   // a server connection serves only the client connection that opened it
  safe,    // a client connection's first request never goes on another client's connection
  always,  // any request may take any idle connection (nginx upstream keepalive)
};

enum class Balance { roundrobin, leastconn };

enum class TlsVersion { any, v1_2, v1_3 };

struct TlsSettings {
  bool enabled = false;
  std::string cert_file;  // client side: empty cert+key = a self-signed pair generated at start
  std::string key_file;
  std::string ca_file;       // server side: trust anchors when verify is on (empty: system store)
  std::string server_name;   // server side: SNI and name to verify (empty: the server's host)
  bool verify = false;       // server side: verify the origin's certificate
  TlsVersion version = TlsVersion::any;
  bool session_resumption = true;
};

struct Timeouts {
  Millis client{30000};           // client inactivity while a request is in progress
  Millis server{30000};           // server inactivity (waiting for response bytes)
  Millis connect{5000};           // TCP connect (and TLS handshake) to a server
  Millis http_request{10000};     // complete request head, from its first byte (408)
  Millis http_keep_alive{10000};  // idle wait for the next request on a kept client connection
  Millis queue{5000};             // wait for a server slot when all are at maxconn (503)
  Millis pool_idle{30000};        // idle pooled server connection lifetime
  Millis grace{10000};            // graceful stop: in-flight requests may finish this long
};

struct ClientSide {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 = ephemeral (tests)
  bool keep_alive = true;
  std::uint32_t max_requests = 0;         // per client connection; 0 = unlimited
  std::size_t max_header_bytes = 16384;   // request head (431 beyond)
  std::uint64_t max_body_bytes = 0;       // request body (413 beyond); 0 = unlimited
  bool add_via = true;
  bool add_x_forwarded_for = true;
  TlsSettings tls;
};

struct ServerSide {
  bool keep_alive = true;
  ReusePolicy reuse = ReusePolicy::safe;
  std::uint32_t max_idle_per_server = 64;
  std::size_t max_header_bytes = 32768;  // response head (502 beyond)
  std::uint32_t retries = 2;             // redispatch attempts after a failed connect
};

struct ServerConfig {
  std::string name;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::uint32_t maxconn = 0;  // concurrent requests; 0 = unlimited
};

struct BackendConfig {
  std::string name;
  Balance balance = Balance::roundrobin;
  std::vector<ServerConfig> servers;
  std::uint32_t queue_limit = 1024;  // requests waiting for a slot (503 beyond)
  TlsSettings tls;                   // TLS to this backend's servers
};

// A request goes to the first route whose host and path prefix match, else the default backend.
struct Route {
  std::string host;         // empty: any (compared without port, case-insensitively)
  std::string path_prefix;  // empty: any
  std::string backend;
};

struct StatsConfig {
  bool enabled = false;
  std::string bind = "127.0.0.1";
  std::uint16_t port = 0;
};

struct ProxyConfig {
  ClientSide client;
  ServerSide server;
  Timeouts timeouts;
  std::vector<BackendConfig> backends;
  std::vector<Route> routes;
  std::string default_backend;  // empty: the first backend
  std::string via_name = "satlink";
  unsigned threads = 1;
  StatsConfig stats;
};

std::string_view to_string(ReusePolicy p);
std::string_view to_string(Balance b);
std::string_view to_string(TlsVersion v);

}  // namespace satlink::proxycore
