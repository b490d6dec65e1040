#include <cstdio>

#include "satlink/proxycore/events.hpp"

namespace satlink::proxycore {

std::string_view to_string(EventKind k) {
  switch (k) {
    case EventKind::client_accept: return "client_accept";
    case EventKind::client_close: return "client_close";
    case EventKind::tls_handshake_start: return "tls_handshake_start";
    case EventKind::tls_handshake_end: return "tls_handshake_end";
    case EventKind::request_head_start: return "request_head_start";
    case EventKind::request_head_end: return "request_head_end";
    case EventKind::request_body_end: return "request_body_end";
    case EventKind::queue_enter: return "queue_enter";
    case EventKind::queue_leave: return "queue_leave";
    case EventKind::server_connect_start: return "server_connect_start";
    case EventKind::server_connect_end: return "server_connect_end";
    case EventKind::server_reuse: return "server_reuse";
    case EventKind::server_idle: return "server_idle";
    case EventKind::server_close: return "server_close";
    case EventKind::request_sent: return "request_sent";
    case EventKind::response_head_start: return "response_head_start";
    case EventKind::response_head_end: return "response_head_end";
    case EventKind::response_head_sent: return "response_head_sent";
    case EventKind::response_end: return "response_end";
    case EventKind::retry: return "retry";
    case EventKind::tunnel_start: return "tunnel_start";
    case EventKind::error: return "error";
  }
  return "unknown";
}

std::string_view to_string(ErrorKind k) {
  switch (k) {
    case ErrorKind::none: return "none";
    case ErrorKind::bad_request: return "bad_request";
    case ErrorKind::request_timeout: return "request_timeout";
    case ErrorKind::body_too_large: return "body_too_large";
    case ErrorKind::head_too_large: return "head_too_large";
    case ErrorKind::bad_gateway: return "bad_gateway";
    case ErrorKind::no_server: return "no_server";
    case ErrorKind::gateway_timeout: return "gateway_timeout";
    case ErrorKind::client_aborted: return "client_aborted";
    case ErrorKind::not_implemented: return "not_implemented";
  }
  return "unknown";
}

int http_status(ErrorKind k) {
  switch (k) {
    case ErrorKind::bad_request: return 400;
    case ErrorKind::request_timeout: return 408;
    case ErrorKind::body_too_large: return 413;
    case ErrorKind::head_too_large: return 431;
    case ErrorKind::not_implemented: return 501;
    case ErrorKind::bad_gateway: return 502;
    case ErrorKind::no_server: return 503;
    case ErrorKind::gateway_timeout: return 504;
    case ErrorKind::none:
    case ErrorKind::client_aborted: return 0;
  }
  return 0;
}

std::string format_access_line(const AccessRecord& r) {
  char timers[128];
  std::snprintf(timers, sizeof timers, "%lld/%lld/%lld/%lld/%lld", (long long)r.t_request,
                (long long)r.t_queue, (long long)r.t_connect, (long long)r.t_response,
                (long long)r.t_total);
  std::string line;
  line.reserve(160 + r.target.size());
  line += r.client_addr.empty() ? "-" : r.client_addr;
  line += ' ';
  line += r.backend.empty() ? "-" : r.backend;
  line += '/';
  line += r.server.empty() ? "-" : r.server;
  line += ' ';
  line += timers;
  line += ' ';
  line += std::to_string(r.status);
  line += ' ';
  line += std::to_string(r.bytes_out);
  line += r.server_conn == 0 ? " -" : (r.server_conn_reused ? " reused" : " new");
  if (r.retried) line += "+retry";
  if (r.error != ErrorKind::none) {
    line += ' ';
    line += to_string(r.error);
  }
  line += " \"";
  line += r.method;
  line += ' ';
  for (char c : r.target) line += (c == '"' || c < 0x20) ? '?' : c;  // keep one record per line
  line += '"';
  return line;
}

}  // namespace satlink::proxycore
