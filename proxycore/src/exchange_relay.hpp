// Moving the bytes of an exchange once the heads are settled: a message body from a parser to
// a serializer in bounded pieces, and raw bytes one way for the 101 tunnel. Split from
// exchange.cpp so the exchange's steps (connect, send, read, forward) read apart from the I/O
// loops they call.
#pragma once

#include <boost/beast/http/serializer.hpp>
#include <chrono>
#include <cstdint>
#include <optional>

#include "http_head.hpp"

namespace satlink::proxycore::detail {

enum class RelayEnd { done, from_failed, from_timeout, to_failed, to_timeout, too_large, bad };

struct Relay {
  RelayEnd end = RelayEnd::done;
  std::uint64_t body_bytes = 0;  // payload moved
  std::uint64_t wire_bytes = 0;  // written, with framing (and the head if it was still pending)
  std::optional<Clock::time_point> first_write;
};

// Moves a body from a parser to a serializer in bounded pieces (Beast's relay pattern). When
// the serializer's head is still unwritten, it leaves with the first piece: one write, not two.
// `body_limit` (0: none) caps the payload moved. Defined and instantiated (request and
// response) in exchange_relay.cpp.
template <bool isRequest>
asio::awaitable<Relay> relay_body(Stream& from, beast::flat_buffer& fbuf,
                                  http::parser<isRequest, http::buffer_body>& p,
                                  std::chrono::milliseconds from_timeout, Stream& to,
                                  http::serializer<isRequest, http::buffer_body>& sr,
                                  http::message<isRequest, http::buffer_body>& out_msg,
                                  std::chrono::milliseconds to_timeout,
                                  std::uint64_t body_limit = 0);
extern template asio::awaitable<Relay> relay_body<true>(
    Stream&, beast::flat_buffer&, http::parser<true, http::buffer_body>&,
    std::chrono::milliseconds, Stream&, http::serializer<true, http::buffer_body>&,
    http::message<true, http::buffer_body>&, std::chrono::milliseconds, std::uint64_t);
extern template asio::awaitable<Relay> relay_body<false>(
    Stream&, beast::flat_buffer&, http::parser<false, http::buffer_body>&,
    std::chrono::milliseconds, Stream&, http::serializer<false, http::buffer_body>&,
    http::message<false, http::buffer_body>&, std::chrono::milliseconds, std::uint64_t);

// Copies bytes from one side of a tunnel to the other until either fails or goes quiet for
// `timeout`, then half-closes (plain TCP) or closes the receiving side.
asio::awaitable<void> pipe(Stream& from, Stream& to, std::chrono::milliseconds timeout);

}  // namespace satlink::proxycore::detail
