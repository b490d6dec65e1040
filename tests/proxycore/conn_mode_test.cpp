// Truth table for the per-side connection fate (client side and server side decided separately,
// on the request and again on the response; HAProxy's h1_set_cli_conn_mode /
// h1_set_srv_conn_mode). Expectations come from a small oracle written from the specification
// below, not from the implementation.
//
// Client side, on the request:
//   upgrade -> tunnel (provisional); else close if keep-alive is off, last_allowed or
//   Connection: close; else HTTP/1.0 -> keep_alive only with Connection: keep-alive;
//   else keep_alive.
// Client side, on the response:
//   tunnel: 101 -> tunnel, otherwise recompute as a normal request (no upgrade) with the
//   configured keep-alive mode, then: close -> close; until_close framing -> close;
//   otherwise keep_alive. The server's Connection: close / HTTP/1.0 never affect the client.
// Client framing: none without a body; as_origin with a known length; unknown length ->
//   until_close for an HTTP/1.0 client, chunked for an HTTP/1.1 client.
// Server side, on the request: upgrade -> tunnel; else keep_alive if enabled, else close.
// Server side, on the response:
//   tunnel: 101 -> tunnel, else close; close -> close; Connection: close -> close;
//   HTTP/1.0 without Connection: keep-alive -> close; body of unknown length -> close;
//   otherwise keep_alive.
#include <gtest/gtest.h>

#include <array>
#include <ostream>
#include <string>

#include "satlink/proxycore/conn_mode.hpp"

namespace satlink::proxycore {

// Readable names in failure messages (found by argument-dependent lookup; internal linkage).
static const char* fate_name(ConnFate f) {
  switch (f) {
    case ConnFate::keep_alive:
      return "keep_alive";
    case ConnFate::close:
      return "close";
    case ConnFate::tunnel:
      return "tunnel";
  }
  return "?";
}

static const char* framing_name(ClientFraming f) {
  switch (f) {
    case ClientFraming::none:
      return "none";
    case ClientFraming::as_origin:
      return "as_origin";
    case ClientFraming::chunked:
      return "chunked";
    case ClientFraming::until_close:
      return "until_close";
  }
  return "?";
}

static void PrintTo(ConnFate f, std::ostream* os) { *os << fate_name(f); }
static void PrintTo(ClientFraming f, std::ostream* os) { *os << framing_name(f); }

}  // namespace satlink::proxycore

namespace satlink::test {
namespace {

using proxycore::ClientFraming;
using proxycore::ConnFate;
using proxycore::RequestFacts;
using proxycore::ResponseFacts;

// ---------------------------------------------------------------------------------------------
// Oracle, written from the specification only.
// ---------------------------------------------------------------------------------------------
namespace oracle {

bool no_body(int status, bool is_head) {
  return is_head || (status >= 100 && status < 200) || status == 204 || status == 304;
}

ClientFraming framing(const RequestFacts& req, const ResponseFacts& rsp) {
  if (no_body(rsp.status, req.is_head)) return ClientFraming::none;
  if (rsp.length_known) return ClientFraming::as_origin;
  return req.http10 ? ClientFraming::until_close : ClientFraming::chunked;
}

ConnFate client_on_request(bool keep_alive_enabled, const RequestFacts& req) {
  if (req.upgrade) return ConnFate::tunnel;
  if (!keep_alive_enabled || req.last_allowed || req.connection_close) return ConnFate::close;
  if (req.http10) return req.connection_keep_alive ? ConnFate::keep_alive : ConnFate::close;
  return ConnFate::keep_alive;
}

ConnFate client_on_response(bool keep_alive_enabled, ConnFate on_request,
                            const RequestFacts& req, const ResponseFacts& rsp) {
  ConnFate fate = on_request;
  if (fate == ConnFate::tunnel) {
    if (rsp.status == 101) return ConnFate::tunnel;
    RequestFacts plain = req;
    plain.upgrade = false;
    fate = client_on_request(keep_alive_enabled, plain);
  }
  if (fate == ConnFate::close) return ConnFate::close;
  if (framing(req, rsp) == ClientFraming::until_close) return ConnFate::close;
  return ConnFate::keep_alive;
}

ConnFate server_on_request(bool keep_alive_enabled, const RequestFacts& req) {
  if (req.upgrade) return ConnFate::tunnel;
  return keep_alive_enabled ? ConnFate::keep_alive : ConnFate::close;
}

ConnFate server_on_response(ConnFate on_request, const RequestFacts& req,
                            const ResponseFacts& rsp) {
  if (on_request == ConnFate::tunnel) {
    return rsp.status == 101 ? ConnFate::tunnel : ConnFate::close;
  }
  if (on_request == ConnFate::close) return ConnFate::close;
  if (rsp.connection_close) return ConnFate::close;
  if (rsp.http10 && !rsp.connection_keep_alive) return ConnFate::close;
  if (!no_body(rsp.status, req.is_head) && !rsp.length_known) return ConnFate::close;
  return ConnFate::keep_alive;
}

}  // namespace oracle

// ---------------------------------------------------------------------------------------------
// Dimensions of the truth table.
// ---------------------------------------------------------------------------------------------
enum class ReqConn { none, close, keep_alive, upgrade };
enum class RspConn { none, close, keep_alive };

constexpr std::array kReqConns = {ReqConn::none, ReqConn::close, ReqConn::keep_alive,
                                  ReqConn::upgrade};
constexpr std::array kRspConns = {RspConn::none, RspConn::close, RspConn::keep_alive};
constexpr std::array kStatuses = {100, 101, 200, 204, 304};
constexpr std::array kBools = {false, true};

const char* req_conn_name(ReqConn c) {
  switch (c) {
    case ReqConn::none:
      return "(none)";
    case ReqConn::close:
      return "close";
    case ReqConn::keep_alive:
      return "keep-alive";
    case ReqConn::upgrade:
      return "upgrade+Upgrade";
  }
  return "?";
}

const char* rsp_conn_name(RspConn c) {
  switch (c) {
    case RspConn::none:
      return "(none)";
    case RspConn::close:
      return "close";
    case RspConn::keep_alive:
      return "keep-alive";
  }
  return "?";
}

RequestFacts make_request(bool http10, ReqConn conn, bool is_head, bool last_allowed) {
  RequestFacts req;
  req.http10 = http10;
  req.connection_close = conn == ReqConn::close;
  req.connection_keep_alive = conn == ReqConn::keep_alive;
  req.upgrade = conn == ReqConn::upgrade;
  req.is_head = is_head;
  req.last_allowed = last_allowed;
  return req;
}

ResponseFacts make_response(bool http10, RspConn conn, int status, bool length_known) {
  ResponseFacts rsp;
  rsp.http10 = http10;
  rsp.connection_close = conn == RspConn::close;
  rsp.connection_keep_alive = conn == RspConn::keep_alive;
  rsp.status = status;
  rsp.length_known = length_known;
  return rsp;
}

// Shorthands for the named cases.
RequestFacts get11() { return make_request(false, ReqConn::none, false, false); }
RequestFacts get10() { return make_request(true, ReqConn::none, false, false); }
ResponseFacts ok200() { return make_response(false, RspConn::none, 200, true); }

// Runs a request/response through both sides as the proxy would.
struct Outcome {
  ConnFate client_req;
  ConnFate client_rsp;
  ClientFraming framing;
  ConnFate server_req;
  ConnFate server_rsp;
};

Outcome run(bool client_ka, bool server_ka, const RequestFacts& req, const ResponseFacts& rsp) {
  Outcome o{};
  o.client_req = proxycore::client_fate_on_request(client_ka, req);
  o.client_rsp = proxycore::client_fate_on_response(client_ka, o.client_req, req, rsp);
  o.framing = proxycore::client_framing(req, rsp);
  o.server_req = proxycore::server_fate_on_request(server_ka, req);
  o.server_rsp = proxycore::server_fate_on_response(o.server_req, req, rsp);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Full cross product.
// ---------------------------------------------------------------------------------------------
TEST(ConnMode, FullTruthTable) {
  int cases = 0;
  for (bool req10 : kBools) {
    for (ReqConn req_conn : kReqConns) {
      for (bool is_head : kBools) {
        for (bool last_allowed : kBools) {
          for (bool client_ka : kBools) {
            for (bool server_ka : kBools) {
              for (int status : kStatuses) {
                for (bool length_known : kBools) {
                  for (RspConn rsp_conn : kRspConns) {
                    for (bool rsp10 : kBools) {
                      ++cases;
                      const RequestFacts req =
                          make_request(req10, req_conn, is_head, last_allowed);
                      const ResponseFacts rsp =
                          make_response(rsp10, rsp_conn, status, length_known);
                      SCOPED_TRACE(
                          std::string("req=") + (req10 ? "HTTP/1.0 " : "HTTP/1.1 ") +
                          (is_head ? "HEAD" : "GET") + " Connection:" + req_conn_name(req_conn) +
                          (last_allowed ? " last_allowed" : "") +
                          " | client_ka=" + (client_ka ? "on" : "off") +
                          " server_ka=" + (server_ka ? "on" : "off") +
                          " | rsp=" + (rsp10 ? "HTTP/1.0 " : "HTTP/1.1 ") +
                          std::to_string(status) + " Connection:" + rsp_conn_name(rsp_conn) +
                          (length_known ? " length-known" : " length-unknown"));

                      EXPECT_EQ(proxycore::response_has_no_body(status, is_head),
                                oracle::no_body(status, is_head));
                      EXPECT_EQ(proxycore::client_framing(req, rsp),
                                oracle::framing(req, rsp));

                      const ConnFate cli_req = oracle::client_on_request(client_ka, req);
                      EXPECT_EQ(proxycore::client_fate_on_request(client_ka, req), cli_req);
                      // Each function is checked on the oracle's input, so one fault does not
                      // cascade into the next column.
                      EXPECT_EQ(proxycore::client_fate_on_response(client_ka, cli_req, req, rsp),
                                oracle::client_on_response(client_ka, cli_req, req, rsp));

                      const ConnFate srv_req = oracle::server_on_request(server_ka, req);
                      EXPECT_EQ(proxycore::server_fate_on_request(server_ka, req), srv_req);
                      EXPECT_EQ(proxycore::server_fate_on_response(srv_req, req, rsp),
                                oracle::server_on_response(srv_req, req, rsp));
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  // 2 versions x 4 Connection x 2 methods x 2 last_allowed x 2 client_ka x 2 server_ka
  // x 5 statuses x 2 lengths x 3 response Connection x 2 response versions.
  EXPECT_EQ(cases, 7680);
}

TEST(ConnMode, ResponseHasNoBodyOverAllStatuses) {
  for (bool is_head : kBools) {
    for (int status = 100; status <= 599; ++status) {
      SCOPED_TRACE(std::string(is_head ? "HEAD " : "GET ") + std::to_string(status));
      EXPECT_EQ(proxycore::response_has_no_body(status, is_head), oracle::no_body(status, is_head));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Named headline cases.
// ---------------------------------------------------------------------------------------------
TEST(ConnMode, Http11ClientIsKeptByDefault) {
  const Outcome o = run(true, true, get11(), ok200());
  EXPECT_EQ(o.client_req, ConnFate::keep_alive);
  EXPECT_EQ(o.client_rsp, ConnFate::keep_alive);
  EXPECT_EQ(o.framing, ClientFraming::as_origin);
  EXPECT_EQ(o.server_rsp, ConnFate::keep_alive);
}

TEST(ConnMode, Http10ClientWithoutKeepAliveCloses) {
  const Outcome o = run(true, true, get10(), ok200());
  EXPECT_EQ(o.client_req, ConnFate::close);
  EXPECT_EQ(o.client_rsp, ConnFate::close);
  // The server side speaks HTTP/1.1 and is unaffected.
  EXPECT_EQ(o.server_req, ConnFate::keep_alive);
  EXPECT_EQ(o.server_rsp, ConnFate::keep_alive);
}

TEST(ConnMode, Http10ClientWithKeepAliveIsKept) {
  const Outcome o = run(true, true, make_request(true, ReqConn::keep_alive, false, false), ok200());
  EXPECT_EQ(o.client_req, ConnFate::keep_alive);
  EXPECT_EQ(o.client_rsp, ConnFate::keep_alive);
}

TEST(ConnMode, ClientConnectionCloseClosesClientOnly) {
  const Outcome o = run(true, true, make_request(false, ReqConn::close, false, false), ok200());
  EXPECT_EQ(o.client_req, ConnFate::close);
  EXPECT_EQ(o.client_rsp, ConnFate::close);
  EXPECT_EQ(o.server_req, ConnFate::keep_alive);
  EXPECT_EQ(o.server_rsp, ConnFate::keep_alive);
}

TEST(ConnMode, ClientKeepAliveOffAlwaysCloses) {
  for (bool req10 : kBools) {
    for (ReqConn c : {ReqConn::none, ReqConn::close, ReqConn::keep_alive}) {
      SCOPED_TRACE(std::string(req10 ? "HTTP/1.0 " : "HTTP/1.1 ") + req_conn_name(c));
      const Outcome o = run(false, true, make_request(req10, c, false, false), ok200());
      EXPECT_EQ(o.client_req, ConnFate::close);
      EXPECT_EQ(o.client_rsp, ConnFate::close);
      EXPECT_EQ(o.server_rsp, ConnFate::keep_alive);
    }
  }
}

TEST(ConnMode, UnknownLengthToHttp11ClientIsRechunkedAndKept) {
  const ResponseFacts rsp = make_response(false, RspConn::none, 200, false);
  const Outcome o = run(true, true, get11(), rsp);
  EXPECT_EQ(o.framing, ClientFraming::chunked);
  EXPECT_EQ(o.client_rsp, ConnFate::keep_alive);
  // The server marks the end of the body by closing.
  EXPECT_EQ(o.server_rsp, ConnFate::close);
}

TEST(ConnMode, UnknownLengthToHttp10ClientEndsWithClose) {
  const ResponseFacts rsp = make_response(false, RspConn::none, 200, false);
  const Outcome o = run(true, true, make_request(true, ReqConn::keep_alive, false, false), rsp);
  EXPECT_EQ(o.client_req, ConnFate::keep_alive);
  EXPECT_EQ(o.framing, ClientFraming::until_close);
  EXPECT_EQ(o.client_rsp, ConnFate::close);
}

TEST(ConnMode, ServerCloseDoesNotCloseClient) {
  const Outcome o = run(true, true, get11(), make_response(false, RspConn::close, 200, true));
  EXPECT_EQ(o.client_rsp, ConnFate::keep_alive);
  EXPECT_EQ(o.server_rsp, ConnFate::close);
}

TEST(ConnMode, Http10ServerResponseDoesNotCloseClient) {
  const Outcome o = run(true, true, get11(), make_response(true, RspConn::none, 200, true));
  EXPECT_EQ(o.client_rsp, ConnFate::keep_alive);
  EXPECT_EQ(o.server_rsp, ConnFate::close);
}

TEST(ConnMode, Http10ServerWithKeepAliveIsKept) {
  const Outcome o = run(true, true, get11(), make_response(true, RspConn::keep_alive, 200, true));
  EXPECT_EQ(o.server_rsp, ConnFate::keep_alive);
}

TEST(ConnMode, ServerKeepAliveOffAlwaysCloses) {
  for (bool req10 : kBools) {
    for (ReqConn c : {ReqConn::none, ReqConn::close, ReqConn::keep_alive}) {
      for (RspConn rc : kRspConns) {
        SCOPED_TRACE(std::string(req10 ? "HTTP/1.0 " : "HTTP/1.1 ") + req_conn_name(c) +
                     " rsp Connection:" + rsp_conn_name(rc));
        const Outcome o =
            run(true, false, make_request(req10, c, false, false), make_response(false, rc, 200, true));
        EXPECT_EQ(o.server_req, ConnFate::close);
        EXPECT_EQ(o.server_rsp, ConnFate::close);
      }
    }
  }
}

TEST(ConnMode, ClientHeadersDoNotAffectServerSide) {
  for (bool req10 : kBools) {
    for (ReqConn c : {ReqConn::none, ReqConn::close, ReqConn::keep_alive}) {
      for (bool last : kBools) {
        SCOPED_TRACE(std::string(req10 ? "HTTP/1.0 " : "HTTP/1.1 ") + req_conn_name(c) +
                     (last ? " last_allowed" : ""));
        const Outcome o = run(true, true, make_request(req10, c, false, last), ok200());
        EXPECT_EQ(o.server_req, ConnFate::keep_alive);
        EXPECT_EQ(o.server_rsp, ConnFate::keep_alive);
      }
    }
  }
}

TEST(ConnMode, MaxRequestsClosesClient) {
  const Outcome o = run(true, true, make_request(false, ReqConn::keep_alive, false, true), ok200());
  EXPECT_EQ(o.client_req, ConnFate::close);
  EXPECT_EQ(o.client_rsp, ConnFate::close);
  EXPECT_EQ(o.server_rsp, ConnFate::keep_alive);
}

TEST(ConnMode, AcceptedUpgradeTunnelsBothSides) {
  const RequestFacts req = make_request(false, ReqConn::upgrade, false, false);
  const Outcome o = run(true, true, req, make_response(false, RspConn::none, 101, true));
  EXPECT_EQ(o.client_req, ConnFate::tunnel);
  EXPECT_EQ(o.server_req, ConnFate::tunnel);
  EXPECT_EQ(o.client_rsp, ConnFate::tunnel);
  EXPECT_EQ(o.server_rsp, ConnFate::tunnel);
  EXPECT_EQ(o.framing, ClientFraming::none);
}

TEST(ConnMode, UpgradeIsProvisionalTunnelEvenWithKeepAliveOff) {
  const RequestFacts req = make_request(false, ReqConn::upgrade, false, false);
  EXPECT_EQ(proxycore::client_fate_on_request(false, req), ConnFate::tunnel);
  EXPECT_EQ(proxycore::server_fate_on_request(false, req), ConnFate::tunnel);
}

TEST(ConnMode, RefusedUpgradeFallsBackToKeepAlive) {
  const RequestFacts req = make_request(false, ReqConn::upgrade, false, false);
  const Outcome o = run(true, true, req, ok200());
  EXPECT_EQ(o.client_req, ConnFate::tunnel);
  EXPECT_EQ(o.client_rsp, ConnFate::keep_alive);
  // The server side of a refused upgrade is closed.
  EXPECT_EQ(o.server_rsp, ConnFate::close);
}

TEST(ConnMode, RefusedUpgradeWithClientKeepAliveOffCloses) {
  const RequestFacts req = make_request(false, ReqConn::upgrade, false, false);
  const Outcome o = run(false, true, req, ok200());
  EXPECT_EQ(o.client_req, ConnFate::tunnel);
  EXPECT_EQ(o.client_rsp, ConnFate::close);
}

TEST(ConnMode, RefusedUpgradeFromHttp10ClientCloses) {
  const RequestFacts req = make_request(true, ReqConn::upgrade, false, false);
  EXPECT_EQ(run(true, true, req, ok200()).client_rsp, ConnFate::close);
}

TEST(ConnMode, RefusedUpgradeOnLastAllowedCloses) {
  const RequestFacts req = make_request(false, ReqConn::upgrade, false, true);
  const Outcome o = run(true, true, req, ok200());
  EXPECT_EQ(o.client_req, ConnFate::tunnel);
  EXPECT_EQ(o.client_rsp, ConnFate::close);
}

TEST(ConnMode, RefusedUpgradeWithUnknownLengthIsRechunked) {
  const RequestFacts req = make_request(false, ReqConn::upgrade, false, false);
  const Outcome o = run(true, true, req, make_response(false, RspConn::none, 200, false));
  EXPECT_EQ(o.framing, ClientFraming::chunked);
  EXPECT_EQ(o.client_rsp, ConnFate::keep_alive);
  EXPECT_EQ(o.server_rsp, ConnFate::close);
}

TEST(ConnMode, HeadResponseHasNoBody) {
  EXPECT_TRUE(proxycore::response_has_no_body(200, true));
  const RequestFacts head = make_request(false, ReqConn::none, true, false);
  // An unknown length is irrelevant: there is no body, so both sides stay open.
  const Outcome o = run(true, true, head, make_response(false, RspConn::none, 200, false));
  EXPECT_EQ(o.framing, ClientFraming::none);
  EXPECT_EQ(o.client_rsp, ConnFate::keep_alive);
  EXPECT_EQ(o.server_rsp, ConnFate::keep_alive);
}

TEST(ConnMode, Status304HasNoBody) {
  EXPECT_TRUE(proxycore::response_has_no_body(304, false));
  const Outcome o =
      run(true, true, make_request(true, ReqConn::keep_alive, false, false),
          make_response(false, RspConn::none, 304, false));
  EXPECT_EQ(o.framing, ClientFraming::none);
  EXPECT_EQ(o.client_rsp, ConnFate::keep_alive);
  EXPECT_EQ(o.server_rsp, ConnFate::keep_alive);
}

TEST(ConnMode, Status204And1xxHaveNoBody) {
  EXPECT_TRUE(proxycore::response_has_no_body(204, false));
  EXPECT_TRUE(proxycore::response_has_no_body(100, false));
  EXPECT_TRUE(proxycore::response_has_no_body(199, false));
  EXPECT_FALSE(proxycore::response_has_no_body(200, false));
  EXPECT_FALSE(proxycore::response_has_no_body(205, false));
  const Outcome o = run(true, true, get11(), make_response(false, RspConn::none, 204, false));
  EXPECT_EQ(o.framing, ClientFraming::none);
  EXPECT_EQ(o.server_rsp, ConnFate::keep_alive);
}

TEST(ConnMode, KnownLengthIsForwardedAsOrigin) {
  EXPECT_EQ(proxycore::client_framing(get10(), ok200()), ClientFraming::as_origin);
  EXPECT_EQ(proxycore::client_framing(get11(), ok200()), ClientFraming::as_origin);
}

}  // namespace
}  // namespace satlink::test
