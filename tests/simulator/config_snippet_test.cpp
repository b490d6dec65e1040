// "Copy as HAProxy / nginx config": the right directives per mode, every timeout and limit in
// the servers' units, and the real servers' own checks (haproxy -c, nginx -t) on every snippet
// of a few shipped scenarios in every proxy mode. The servers are never started.
#include "satlink/simulator/config_snippet.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "satlink/proxycore/self_signed.hpp"

namespace satlink::simulator {
namespace {

namespace fs = std::filesystem;

const std::vector<Mode> kProxyModes{Mode::keep_alive, Mode::server_close, Mode::close,
                                    Mode::client_close};

Scenario shipped(const std::string& file) {
  auto r = load_scenario_file(std::string(SATLINK_SCENARIOS_DIR) + "/" + file);
  EXPECT_TRUE(r.ok()) << file << ": " << proxycore::format_errors(r.errors);
  return r.scenario;
}

Scenario scenario(const char* json) {
  auto r = load_scenario(nlohmann::json::parse(json));
  EXPECT_TRUE(r.ok()) << proxycore::format_errors(r.errors);
  return r.scenario;
}

// Every timeout and limit set away from its default, so a value that is not carried over shows.
Scenario tuned() {
  return scenario(R"({"satlink_scenario": 1, "name": "tuned",
    "proxy": {"client": {"max_requests": 100, "max_header_bytes": 8192, "max_body_bytes": 1048576},
              "server": {"reuse": "always", "max_idle_per_server": 16, "retries": 3},
              "timeouts": {"client_ms": 45000, "server_ms": 1500, "connect_ms": 2500,
                           "http_request_ms": 7000, "http_keep_alive_ms": 120000,
                           "queue_ms": 3000, "pool_idle_ms": 90000, "grace_ms": 500}}})");
}

Scenario with_tls() {
  return scenario(R"({"satlink_scenario": 1, "name": "tls both sides",
    "proxy": {"client": {"tls": {"enabled": true, "version": "1.3", "session_resumption": false}}},
    "origin": {"tls": true}})");
}

// The directives of a configuration: each line without its comment and outer spaces.
std::vector<std::string> directives(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    const auto first = line.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    out.push_back(line.substr(first, line.find_last_not_of(' ') - first + 1));
  }
  return out;
}

bool has(const std::string& text, const std::string& directive) {
  const auto d = directives(text);
  return std::find(d.begin(), d.end(), directive) != d.end();
}

bool has_prefix(const std::string& text, const std::string& prefix) {
  for (const auto& d : directives(text))
    if (d.rfind(prefix, 0) == 0) return true;
  return false;
}

TEST(ConfigSnippet, HaproxyModesUseTheirOptions) {
  const Scenario s = shipped("geo-600ms.json");
  const std::string ka = haproxy_config(s, Mode::keep_alive);
  EXPECT_TRUE(has(ka, "option http-keep-alive")) << ka;
  EXPECT_TRUE(has(ka, "http-reuse safe")) << ka;
  EXPECT_TRUE(has(ka, "server origin 127.0.0.1:8081 pool-max-conn 64 pool-purge-delay 30s")) << ka;
  EXPECT_FALSE(has_prefix(ka, "http-after-response")) << ka;

  const std::string sc = haproxy_config(s, Mode::server_close);
  EXPECT_TRUE(has(sc, "option http-server-close")) << sc;
  EXPECT_FALSE(has_prefix(sc, "option http-keep-alive")) << sc;
  EXPECT_FALSE(has_prefix(sc, "http-reuse")) << sc;
  EXPECT_TRUE(has(sc, "server origin 127.0.0.1:8081")) << sc;  // no pool

  const std::string cl = haproxy_config(s, Mode::close);
  EXPECT_TRUE(has(cl, "option httpclose")) << cl;
  EXPECT_FALSE(has_prefix(cl, "option http-keep-alive")) << cl;
  EXPECT_FALSE(has_prefix(cl, "http-reuse")) << cl;

  const std::string cc = haproxy_config(s, Mode::client_close);
  EXPECT_TRUE(has(cc, "option http-keep-alive")) << cc;
  EXPECT_TRUE(has(cc, "http-after-response set-header Connection close")) << cc;
  EXPECT_TRUE(has(cc, "http-reuse safe")) << cc;
  EXPECT_NE(cc.find("nothing is reused here"), std::string::npos) << cc;
}

TEST(ConfigSnippet, NginxModesUseKeepaliveAndUpstreamKeepalive) {
  const Scenario s = shipped("geo-600ms.json");
  for (Mode m : kProxyModes) {
    const std::string text = nginx_config(s, m);
    const ModeSides side = sides(m);
    SCOPED_TRACE(std::string(to_string(m)) + "\n" + text);
    EXPECT_EQ(has(text, "keepalive_timeout 10s;"), side.client_keep_alive);
    EXPECT_EQ(has(text, "keepalive_timeout 0;"), !side.client_keep_alive);
    EXPECT_EQ(has(text, "keepalive 64;"), side.server_keep_alive);
    EXPECT_EQ(has(text, "keepalive_timeout 30s;"), side.server_keep_alive);  // upstream's
    EXPECT_EQ(has(text, "proxy_set_header Connection \"\";"), side.server_keep_alive);
    EXPECT_EQ(has(text, "proxy_set_header Connection \"close\";"), !side.server_keep_alive);
    EXPECT_TRUE(has(text, "proxy_http_version 1.1;"));
    EXPECT_TRUE(has(text, "proxy_pass http://origin;"));
    EXPECT_TRUE(has(text, "listen 8080;"));
    EXPECT_TRUE(has(text, "server 127.0.0.1:8081;"));
    // nginx reuses like "always": the scenario's "safe" is named as having no equivalent.
    EXPECT_EQ(text.find("server.reuse safe: no equivalent") != std::string::npos,
              side.server_keep_alive);
  }
}

TEST(ConfigSnippet, TimeoutsAndLimitsAreCarriedOverInTheirUnits) {
  const Scenario s = tuned();
  const std::string h = haproxy_config(s, Mode::keep_alive);
  for (const char* d :
       {"timeout client 45s", "timeout server 1500ms", "timeout connect 2500ms",
        "timeout http-request 7s", "timeout http-keep-alive 120s", "timeout queue 3s",
        "hard-stop-after 500ms", "retries 3", "http-reuse always",
        "server origin 127.0.0.1:8081 pool-max-conn 16 pool-purge-delay 90s",
        "http-request deny deny_status 413 if { req.hdr_val(content-length) gt "
        "1048576 }"})
    EXPECT_TRUE(has(h, d)) << d << "\n" << h;
  EXPECT_NE(h.find("client.max_requests 100: no equivalent"), std::string::npos) << h;

  const std::string n = nginx_config(s, Mode::keep_alive);
  for (const char* d :
       {"keepalive_timeout 120s;", "keepalive_requests 100;", "client_header_timeout 7s;",
        "client_body_timeout 45s;", "send_timeout 45s;", "client_max_body_size 1048576;",
        "large_client_header_buffers 4 8k;", "keepalive 16;", "keepalive_timeout 90s;",
        "proxy_connect_timeout 2500ms;", "proxy_read_timeout 1500ms;", "proxy_send_timeout 1500ms;",
        "worker_shutdown_timeout 500ms;"})
    EXPECT_TRUE(has(n, d)) << d << "\n" << n;
  EXPECT_EQ(n.find("server.reuse"), std::string::npos) << n;  // "always" is nginx's own rule
  EXPECT_NE(n.find("timeouts.queue_ms: no equivalent"), std::string::npos) << n;
}

TEST(ConfigSnippet, TlsOnEitherSideMapsToCertificatesAndHttps) {
  const Scenario s = with_tls();
  const std::string h = haproxy_config(s, Mode::keep_alive);
  EXPECT_TRUE(has(h,
                  "bind :8080 ssl crt /etc/ssl/private/satlink-proxy.pem ssl-min-ver TLSv1.3 "
                  "no-tls-tickets"))
      << h;
  EXPECT_TRUE(has(h, "tune.ssl.cachesize 0")) << h;
  EXPECT_TRUE(has_prefix(h, "server origin 127.0.0.1:8081 ssl verify none")) << h;

  SnippetPlaces places;
  places.listen_port = 8443;
  places.origin = "10.0.0.5:443";
  places.cert_file = "/srv/cert.pem";
  places.key_file = "/srv/key.pem";
  const std::string n = nginx_config(s, Mode::server_close, places);
  for (const char* d :
       {"listen 8443 ssl;", "ssl_certificate /srv/cert.pem;", "ssl_certificate_key /srv/key.pem;",
        "ssl_protocols TLSv1.3;", "ssl_session_tickets off;", "ssl_session_cache off;",
        "proxy_pass https://origin;", "proxy_ssl_verify off;", "server 10.0.0.5:443;"})
    EXPECT_TRUE(has(n, d)) << d << "\n" << n;
}

TEST(ConfigSnippet, HeaderNamesTheScenarioTheModeAndThePlaceholders) {
  const Scenario s = shipped("geo-600ms.json");
  for (const std::string& text :
       {haproxy_config(s, Mode::server_close), nginx_config(s, Mode::server_close)}) {
    EXPECT_NE(text.find("\"" + s.name + "\""), std::string::npos) << text;
    EXPECT_NE(text.find("mode server-close: browser <-> proxy kept alive, proxy <-> origin closed"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("EDIT: where clients connect"), std::string::npos) << text;
    EXPECT_NE(text.find("EDIT: the origin's address"), std::string::npos) << text;
  }
  EXPECT_EQ(haproxy_config(s, Mode::keep_alive), haproxy_config(s, Mode::keep_alive));
  EXPECT_EQ(nginx_config(s, Mode::keep_alive), nginx_config(s, Mode::keep_alive));
}

TEST(ConfigSnippet, NoProxyModeIsOnlyAComment) {
  const Scenario s = shipped("geo-600ms.json");
  for (const std::string& text :
       {haproxy_config(s, Mode::no_proxy), nginx_config(s, Mode::no_proxy)}) {
    EXPECT_TRUE(directives(text).empty()) << text;
    EXPECT_NE(text.find("there is no proxy to configure"), std::string::npos) << text;
  }
}

// --- the servers' own checks ------------------------------------------------------------------

// PATH, then the sbin directories a non-root PATH may lack (Debian installs both there).
std::string find_program(const std::string& name) {
  std::string path = getenv("PATH") ? getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/local/sbin";
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  return "";
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "satlink-snippet-XXXXXX").string();
    path = ::mkdtemp(pattern.data()) ? fs::path(pattern) : fs::path();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

void write(const fs::path& file, const std::string& text) {
  std::ofstream(file) << text;
}

struct Outcome {
  int status = -1;
  std::string output;
};

Outcome run(const std::string& command) {
  Outcome o;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return o;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) o.output += buf;
  const int status = ::pclose(p);
  o.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

// -dW: a warning fails the check too.
Outcome haproxy_check(const std::string& haproxy, const TempDir& dir, const std::string& text) {
  write(dir.path / "haproxy.cfg", text);
  return run(haproxy + " -c -dW -f " + (dir.path / "haproxy.cfg").string());
}

// Everything nginx -t writes (pid, logs, temp directories) goes into the temp dir: the test adds
// those paths, which belong to the machine and not to the snippet.
Outcome nginx_check(const std::string& nginx, const TempDir& dir, std::string text) {
  const std::string d = dir.path.string();
  const auto http = text.find("http {\n");
  if (http == std::string::npos) return {-1, "no http block"};
  text.insert(http + 7, "    access_log " + d + "/access.log;\n    client_body_temp_path " + d +
                            "/body;\n    proxy_temp_path " + d + "/proxy;\n    fastcgi_temp_path " +
                            d + "/fastcgi;\n    uwsgi_temp_path " + d +
                            "/uwsgi;\n    scgi_temp_path " + d + "/scgi;\n");
  write(dir.path / "nginx.conf", text);
  return run(nginx + " -t -q -p " + d + "/ -e " + d + "/error.log -g 'pid " + d +
             "/nginx.pid;' -c " + d + "/nginx.conf");
}

// The shipped scenarios that differ in what the snippets carry (plain, HTTPS to the origin, a
// longer pool) and one with TLS on both sides, with a real certificate for the servers to load.
std::vector<std::pair<std::string, Scenario>> checked_scenarios() {
  return {{"geo-600ms", shipped("geo-600ms.json")},
          {"server-keepalive-https", shipped("server-keepalive-https.json")},
          {"origin-memory", shipped("origin-memory.json")},
          {"tuned", tuned()},
          {"tls", with_tls()}};
}

SnippetPlaces places_with_certificate(const TempDir& dir) {
  const auto pair = proxycore::generate_self_signed();
  SnippetPlaces places;
  places.cert_file = places.key_file = (dir.path / "proxy.pem").string();
  write(places.cert_file, pair.cert + pair.key);
  return places;
}

TEST(ConfigSnippet, HaproxyAcceptsEverySnippet) {
  const std::string haproxy = find_program("haproxy");
  if (haproxy.empty()) GTEST_SKIP() << "haproxy is not installed: the snippets were not checked";
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  const SnippetPlaces places = places_with_certificate(dir);
  // The check can fail: a misspelt option is refused.
  const std::string broken = haproxy_config(shipped("geo-600ms.json"), Mode::keep_alive, places);
  const auto bad = haproxy_check(haproxy, dir, broken + "    option http-keep-alive-typo\n");
  EXPECT_NE(bad.status, 0) << bad.output;
  for (const auto& [name, s] : checked_scenarios()) {
    for (Mode m : kProxyModes) {
      const std::string text = haproxy_config(s, m, places);
      const auto o = haproxy_check(haproxy, dir, text);
      EXPECT_EQ(o.status, 0) << name << " " << to_string(m) << ":\n" << o.output << "\n" << text;
    }
  }
}

TEST(ConfigSnippet, NginxAcceptsEverySnippet) {
  const std::string nginx = find_program("nginx");
  if (nginx.empty()) GTEST_SKIP() << "nginx is not installed: the snippets were not checked";
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  const SnippetPlaces places = places_with_certificate(dir);
  const std::string good = nginx_config(shipped("geo-600ms.json"), Mode::keep_alive, places);
  std::string broken = good;
  broken.replace(broken.find("proxy_http_version 1.1;"), 23, "proxy_http_version 1.1");
  const auto bad = nginx_check(nginx, dir, broken);
  EXPECT_NE(bad.status, 0) << bad.output;  // the check can fail: a missing ';' is refused
  for (const auto& [name, s] : checked_scenarios()) {
    for (Mode m : kProxyModes) {
      const std::string text = nginx_config(s, m, places);
      const auto o = nginx_check(nginx, dir, text);
      EXPECT_EQ(o.status, 0) << name << " " << to_string(m) << ":\n" << o.output << "\n" << text;
    }
  }
}

}  // namespace
}  // namespace satlink::simulator
