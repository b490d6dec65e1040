// The I/O loops of an exchange (see exchange_relay.hpp): a body relayed piece by piece with its
// limits and timeouts, and the raw byte pipe of a tunnel.
#include "exchange_relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <memory>

namespace satlink::proxycore::detail {

namespace {
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kChunk = 32768;  // a body moves in pieces of at most this size
}  // namespace

template <bool isRequest>
asio::awaitable<Relay> relay_body(Stream& from, beast::flat_buffer& fbuf,
                                  http::parser<isRequest, http::buffer_body>& p,
                                  std::chrono::milliseconds from_timeout, Stream& to,
                                  http::serializer<isRequest, http::buffer_body>& sr,
                                  http::message<isRequest, http::buffer_body>& out_msg,
                                  std::chrono::milliseconds to_timeout,
                                  std::uint64_t body_limit) {
  Relay r;
  auto chunk = std::make_unique<char[]>(kChunk);
  // Beast reads at most the buffer's free capacity: without room, a body moves in head-sized
  // (8 KiB) reads and as many writes.
  if (fbuf.capacity() - fbuf.size() < kChunk) fbuf.reserve(fbuf.size() + kChunk);
  auto& out = out_msg.body();
  do {
    std::size_t got = 0;
    if (!p.is_done()) {
      p.get().body().data = chunk.get();
      p.get().body().size = kChunk;
      from.arm(from_timeout);
      auto [ec, n] = co_await http::async_read_some(from, fbuf, p, use_nothrow);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        if (from.timed_out())
          r.end = RelayEnd::from_timeout;
        else if (ec.category() == http::make_error_code(http::error::bad_chunk).category() &&
                 ec != http::error::partial_message && ec != http::error::end_of_stream)
          r.end = RelayEnd::bad;
        else
          r.end = RelayEnd::from_failed;
        co_return r;
      }
      got = kChunk - p.get().body().size;
      // A read may yield only framing (a chunk header): nothing to write yet. A zero-size piece
      // would make the serializer end the chunked body.
      if (got == 0 && !p.is_done()) continue;
      if (body_limit != 0 && r.body_bytes + got > body_limit) {
        r.end = RelayEnd::too_large;
        co_return r;
      }
      // No payload (the last chunk just parsed): a null piece, or the serializer would frame an
      // empty chunk, which is itself a last-chunk.
      out.data = got ? chunk.get() : nullptr;
      out.size = got;
      out.more = !p.is_done();
    } else {
      out.data = nullptr;
      out.size = 0;
      out.more = false;
    }
    to.arm(to_timeout);
    auto [wec, wn] = co_await http::async_write(to, sr, use_nothrow);
    if (wec == http::error::need_buffer) wec = {};
    if (!r.first_write && wn > 0) r.first_write = Clock::now();
    r.wire_bytes += wn;
    if (wec) {
      r.end = to.timed_out() ? RelayEnd::to_timeout : RelayEnd::to_failed;
      co_return r;
    }
    r.body_bytes += got;
  } while (!p.is_done() && !sr.is_done());
  from.disarm();
  to.disarm();
  co_return r;
}

// The two directions an exchange relays: the request body (client to server) and the
// response body (server to client).
template asio::awaitable<Relay> relay_body<true>(
    Stream&, beast::flat_buffer&, http::parser<true, http::buffer_body>&,
    std::chrono::milliseconds, Stream&, http::serializer<true, http::buffer_body>&,
    http::message<true, http::buffer_body>&, std::chrono::milliseconds, std::uint64_t);
template asio::awaitable<Relay> relay_body<false>(
    Stream&, beast::flat_buffer&, http::parser<false, http::buffer_body>&,
    std::chrono::milliseconds, Stream&, http::serializer<false, http::buffer_body>&,
    http::message<false, http::buffer_body>&, std::chrono::milliseconds, std::uint64_t);

asio::awaitable<void> pipe(Stream& from, Stream& to, std::chrono::milliseconds timeout) {
  auto data = std::make_unique<char[]>(kChunk);
  for (;;) {
    from.arm(timeout);
    auto [ec, n] = co_await from.async_read_some(asio::buffer(data.get(), kChunk), use_nothrow);
    if (n > 0) {
      to.arm(timeout);
      auto [wec, wn] = co_await asio::async_write(to, asio::buffer(data.get(), n), use_nothrow);
      if (wec) ec = wec;
    }
    if (ec) break;
  }
  // Half-close: the other direction may still be talking (plain TCP only).
  error_code ignored;
  if (!to.is_tls() && to.is_open())
    to.socket().shutdown(tcp::socket::shutdown_send, ignored);
  else
    to.close();
}

}  // namespace satlink::proxycore::detail
