#include "satlink/proxycore/conn_mode.hpp"

namespace satlink::proxycore {

bool response_has_no_body(int status, bool request_is_head) {
  return request_is_head || (status >= 100 && status < 200) || status == 204 || status == 304;
}

ConnFate client_fate_on_request(bool keep_alive_enabled, const RequestFacts& req) {
  if (req.upgrade) return ConnFate::tunnel;  // provisional: only a 101 makes it a tunnel
  if (!keep_alive_enabled || req.last_allowed || req.connection_close) return ConnFate::close;
  // HTTP/1.0 keeps the connection only when asked; HTTP/1.1 unless told to close.
  if (req.http10 && !req.connection_keep_alive) return ConnFate::close;
  return ConnFate::keep_alive;
}

ClientFraming client_framing(const RequestFacts& req, const ResponseFacts& rsp) {
  if (response_has_no_body(rsp.status, req.is_head)) return ClientFraming::none;
  if (rsp.length_known) return ClientFraming::as_origin;
  // Unknown length: an HTTP/1.1 client can take chunked; an HTTP/1.0 client only a close.
  return req.http10 ? ClientFraming::until_close : ClientFraming::chunked;
}

ConnFate client_fate_on_response(bool keep_alive_enabled, ConnFate on_request,
                                 const RequestFacts& req, const ResponseFacts& rsp) {
  if (on_request == ConnFate::tunnel) {
    if (rsp.status == 101) return ConnFate::tunnel;
    // Upgrade refused: the connection goes on as a normal one, under the normal rules.
    RequestFacts plain = req;
    plain.upgrade = false;
    on_request = client_fate_on_request(keep_alive_enabled, plain);
  }
  if (on_request == ConnFate::close) return ConnFate::close;
  if (client_framing(req, rsp) == ClientFraming::until_close) return ConnFate::close;
  // The server's own Connection: close does not reach the client: that is the point of
  // deciding each side separately.
  return ConnFate::keep_alive;
}

ConnFate server_fate_on_request(bool keep_alive_enabled, const RequestFacts& req) {
  if (req.upgrade) return ConnFate::tunnel;
  return keep_alive_enabled ? ConnFate::keep_alive : ConnFate::close;
}

ConnFate server_fate_on_response(ConnFate on_request, const RequestFacts& req,
                                 const ResponseFacts& rsp) {
  if (on_request == ConnFate::tunnel) {
    // A refused upgrade: the request was sent without the keep-alive decision, so the
    // connection is not worth the risk of reuse.
    return rsp.status == 101 ? ConnFate::tunnel : ConnFate::close;
  }
  if (on_request == ConnFate::close) return ConnFate::close;
  if (rsp.connection_close) return ConnFate::close;
  if (rsp.http10 && !rsp.connection_keep_alive) return ConnFate::close;
  if (!response_has_no_body(rsp.status, req.is_head) && !rsp.length_known) return ConnFate::close;
  return ConnFate::keep_alive;
}

}  // namespace satlink::proxycore
