// Message heads: reading a raw head off a stream with the strict checks Beast leaves to us
// (bare CR or LF, obs-fold, size), request framing validation against smuggling, and the
// hop-by-hop rewriting done per side.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "satlink/proxycore/conn_mode.hpp"
#include "satlink/proxycore/events.hpp"
#include "stream.hpp"

namespace satlink::proxycore::detail {

namespace beast = boost::beast;
namespace http = beast::http;
template <class T>
using awaitable = asio::awaitable<T>;

enum class HeadStatus {
  ok,
  closed,        // the peer closed (or reset) before sending a byte of this head
  idle_timeout,  // no byte arrived before the idle deadline
  timeout,       // bytes arrived but the head was not complete in time
  too_large,     // the head exceeds the limit
  malformed,     // bare CR/LF, obs-fold, or a peer that closed mid-head
  io_error,      // the connection failed mid-head
};

struct HeadRead {
  HeadStatus status = HeadStatus::ok;
  std::size_t size = 0;                // bytes of the head at the front of the buffer
  Clock::time_point first_byte{};      // when the first byte of the head was seen
};

// Reads until the buffer holds a complete head ("\r\n\r\n"). Waits up to `idle` for the first
// byte and then up to `head` for the rest. `read_size`: bytes asked of each read. Requests are
// small and many idle clients must stay cheap (4 KiB); a response read also takes the body
// that came with its head, which then leaves in the same write (32 KiB).
inline constexpr std::size_t kRequestReadSize = 4096;
inline constexpr std::size_t kResponseReadSize = 32768;
awaitable<HeadRead> read_head(Stream& s, beast::flat_buffer& buf, std::size_t limit,
                              std::chrono::milliseconds idle, std::chrono::milliseconds head,
                              std::size_t read_size);

// Scans a complete head for what Beast tolerates but a proxy must not (request smuggling
// vectors): a CR not followed by LF, an LF not preceded by CR, obs-fold continuation lines.
bool head_bytes_are_strict(std::string_view head);

using RequestParser = http::request_parser<http::buffer_body>;
using ResponseParser = http::response_parser<http::buffer_body>;
using OutRequest = http::request<http::buffer_body>;
using OutResponse = http::response<http::buffer_body>;

// Checks a parsed request head; returns ErrorKind::none when it may be forwarded.
ErrorKind validate_request(const RequestParser& p);
// Checks a parsed response head; false means a bad gateway.
bool validate_response(const ResponseParser& p);

RequestFacts request_facts(const RequestParser& p);
ResponseFacts response_facts(const ResponseParser& p);

struct ForwardOptions {
  bool add_via = true;
  bool add_x_forwarded_for = true;
  std::string_view via_name;
  std::string_view client_ip;
};

// Builds the head sent to the server: end-to-end fields copied, hop-by-hop ones regenerated.
void make_server_request(const RequestParser& in, ConnFate server_fate, const ForwardOptions& o,
                         OutRequest& out);
// Builds the head sent to the client.
void make_client_response(const ResponseParser& in, const RequestFacts& req, ConnFate client_fate,
                          ClientFraming framing, const ForwardOptions& o, OutResponse& out);

// A complete error response, ready to write ("Connection: close").
std::string error_response(int status);

}  // namespace satlink::proxycore::detail
