// The fate of a connection, decided separately for the client side and the server side, on the
// request and again on the response (HAProxy's h1_set_cli_conn_mode / h1_set_srv_conn_mode).
// Pure functions of message facts plus the configured mode.
#pragma once

namespace satlink::proxycore {

enum class ConnFate {
  keep_alive,  // the connection serves another message after this one
  close,       // the connection closes after this exchange
  tunnel,      // bytes are relayed raw both ways (after 101 Switching Protocols)
};

struct RequestFacts {
  bool http10 = false;              // HTTP/1.0 (otherwise 1.1)
  bool connection_close = false;    // Connection: close
  bool connection_keep_alive = false;
  bool upgrade = false;             // Connection: upgrade + Upgrade header
  bool is_head = false;
  bool last_allowed = false;        // the max-requests-per-connection limit is reached
};

struct ResponseFacts {
  bool http10 = false;
  bool connection_close = false;
  bool connection_keep_alive = false;
  int status = 200;
  bool length_known = true;  // Content-Length or chunked; ignored when the response has no body
};

// True when the response has no body whatever its headers say (HEAD, 1xx, 204, 304).
bool response_has_no_body(int status, bool request_is_head);

// How the response body is framed towards the client.
enum class ClientFraming {
  none,            // no body
  as_origin,       // Content-Length or chunked, as the origin sent it
  chunked,         // unknown length re-framed as chunked (HTTP/1.1 client kept alive)
  until_close,     // unknown length, the end is marked by closing the client connection
};

ConnFate client_fate_on_request(bool keep_alive_enabled, const RequestFacts& req);
// keep_alive_enabled matters only when an upgrade was refused: the request is then judged anew.
ConnFate client_fate_on_response(bool keep_alive_enabled, ConnFate on_request,
                                 const RequestFacts& req, const ResponseFacts& rsp);
ClientFraming client_framing(const RequestFacts& req, const ResponseFacts& rsp);

ConnFate server_fate_on_request(bool keep_alive_enabled, const RequestFacts& req);
ConnFate server_fate_on_response(ConnFate on_request, const RequestFacts& req,
                                 const ResponseFacts& rsp);

}  // namespace satlink::proxycore
