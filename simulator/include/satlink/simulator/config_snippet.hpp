// "Copy as HAProxy config" / "Copy as nginx config": a scenario's keep-alive mode and its proxy
// section's timeouts and limits as a complete configuration for the servers the workbench
// mirrors, so a measured answer can be carried to production (docs/proxy.md has the mapping,
// docs/answer.md what has no equivalent). Pure text: no files, no Qt.
#pragma once

#include <cstdint>
#include <string>

#include "satlink/simulator/scenario.hpp"

namespace satlink::simulator {

// What the scenario cannot know: where the proxy listens, where the origin is, where the
// certificate lives. The defaults are placeholders, marked "EDIT" in the text.
struct SnippetPlaces {
  std::uint16_t listen_port = 8080;
  std::string origin = "127.0.0.1:8081";  // host:port
  // Client-side TLS (proxy.client.tls): empty = the scenario's cert_file / key_file, else a
  // placeholder path. HAProxy wants the certificate and its key in one PEM file (cert_file).
  std::string cert_file;
  std::string key_file;
};

// A loadable haproxy.cfg (global, defaults, frontend, backend); comment-only for no-proxy.
std::string haproxy_config(const Scenario& s, Mode mode, const SnippetPlaces& places = {});
// A loadable nginx.conf (main, events, http with upstream and server); comment-only for no-proxy.
std::string nginx_config(const Scenario& s, Mode mode, const SnippetPlaces& places = {});

}  // namespace satlink::simulator
