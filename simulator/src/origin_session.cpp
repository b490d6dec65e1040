// One origin connection: TLS handshake, bounded request heads and bodies, think time,
// responses generated piece by piece, the keep-alive decision, and the close.
#include "origin_session.hpp"

#include <openssl/ssl.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <cstdio>
#include <cstring>
#include <optional>

namespace satlink::simulator::detail {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kFirstRead = 4096;       // the read that ends a wait for a request
constexpr std::size_t kBodyPiece = 64 * 1024;  // generated and written at a time
// A peer that neither reads nor writes for this long is gone (slow links still move bytes).
constexpr std::chrono::seconds kIoTimeout{60};
constexpr std::chrono::milliseconds kTlsCloseWait{250};
constexpr std::chrono::seconds kLingerTime{1};
constexpr std::size_t kLingerBytes = 256 * 1024;

using Reason = OriginCloseReason;
using Parser = http::request_parser<http::buffer_body>;

struct Reply {
  int status = 200;
  std::string content_type;
  std::uint64_t size = 0;  // Content-Length, also for HEAD
  std::uint64_t checksum = 0;
  const Route* route = nullptr;  // the body's source; null: `text`
  std::string text;
  bool send_body = true;
};

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
  }
  return "Unknown";
}

Reply error_reply(int status) {
  Reply r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.text = std::to_string(status) + " " + std::string(reason_phrase(status)) + "\n";
  r.size = r.text.size();
  BodyChecksum sum;
  sum.update(r.text);
  r.checksum = sum.value();
  return r;
}

Reply make_reply(const Core& core, http::verb method, std::string_view target) {
  if (method != http::verb::get && method != http::verb::head) return error_reply(405);
  const Route* route = core.route(target);
  Reply r = route ? Reply{} : error_reply(404);
  if (route) {
    r.route = route;
    r.content_type = route->content_type;
    r.size = route->size;
    r.checksum = route->checksum;
  }
  r.send_body = method == http::verb::get;
  return r;
}

std::string response_head(const Reply& r, bool keep, bool http10) {
  std::string h =
      "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(reason_phrase(r.status)) +
      "\r\nServer: satlink-origin\r\nContent-Type: " + r.content_type +
      "\r\nContent-Length: " + std::to_string(r.size) +
      "\r\nCache-Control: no-store\r\nX-Satlink-Checksum: " + checksum_hex(r.checksum) + "\r\n";
  if (r.status == 405) h += "Allow: GET, HEAD\r\n";
  if (!keep)
    h += "Connection: close\r\n";
  else if (http10)
    h += "Connection: keep-alive\r\n";  // HTTP/1.0 keeps a connection only when told
  return h + "\r\n";
}

void fill_piece(const Reply& r, std::uint64_t offset, std::span<char> out) {
  if (out.empty()) return;
  if (r.route && !r.route->bytes)
    fill_body(r.route->path, offset, out);
  else
    std::memcpy(out.data(), (r.route ? r.route->bytes->data() : r.text.data()) + offset,
                out.size());
}

// The head rides with the first piece (one segment for a small response); never more than
// one piece of a body is in memory.
asio::awaitable<bool> write_reply(Connection& c, const std::string& head, const Reply& r) {
  const std::uint64_t total = r.send_body ? r.size : 0;
  std::vector<char> piece(static_cast<std::size_t>(std::min<std::uint64_t>(total, kBodyPiece)));
  std::uint64_t offset = 0;
  bool first = true;
  while (first || offset < total) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), total - offset));
    fill_piece(r, offset, std::span<char>(piece.data(), n));
    const std::array<asio::const_buffer, 2> buffers{
        first ? asio::buffer(head) : asio::const_buffer(), asio::buffer(piece.data(), n)};
    c.arm(kIoTimeout);
    auto [ec, written] = co_await asio::async_write(c, buffers, use_nothrow);
    c.disarm();
    if (ec) co_return false;
    offset += n;
    first = false;
  }
  co_return true;
}

asio::awaitable<bool> send(Connection& c, const Reply& r, bool keep, bool http10) {
  c.core.emit(OriginEvent::response_start, c.id, c.index, r.status);
  const std::string head = response_head(r, keep, http10);
  const bool ok = co_await write_reply(c, head, r);
  if (!ok) co_return false;
  c.core.emit(OriginEvent::response_end, c.id, c.index, r.send_body ? r.size : 0);
  ++c.served;
  c.core.count(&Origin::Counters::responses);
  co_return true;
}

bool is_parse_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

bool is_peer_gone(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::ssl::error::stream_truncated;
}

// A request that cannot be served: the answer (if any) and why the connection closes.
asio::awaitable<Reason> fail(Connection& c, const error_code& ec) {
  int status = 0;
  Reason reason = Reason::error;
  if (c.core.stopping) co_return Reason::stopped;
  if (c.timed_out()) {
    status = 408;
    reason = Reason::request_timeout;
  } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    status = 431;
  } else if (ec == http::error::body_limit) {
    status = 413;
  } else if (is_peer_gone(ec)) {
    co_return Reason::peer_closed;
  } else if (is_parse_error(ec)) {
    status = 400;
  }
  if (status != 0) co_await send(c, error_reply(status), false, false);
  co_return reason;
}

// Request bodies are read and dropped (bounded by the parser's body limit).
asio::awaitable<error_code> discard_body(Connection& c, Parser& parser) {
  if (parser.is_done()) co_return error_code{};
  std::vector<char> sink(16 * 1024);
  while (!parser.is_done()) {
    parser.get().body().data = sink.data();
    parser.get().body().size = sink.size();
    c.arm(kIoTimeout);
    auto [ec, n] = co_await http::async_read(c, c.buffer, parser, use_nothrow);
    c.disarm();
    if (ec && ec != http::error::need_buffer) co_return ec;
  }
  co_return error_code{};
}

std::optional<Reason> fate(const OriginKeepAlive& ka, bool client_keeps, std::uint64_t index) {
  if (!ka.enabled || ka.timeout_ms <= 0) return Reason::keep_alive_off;
  if (!client_keeps) return Reason::client_asked;
  if (ka.max_requests != 0 && index >= ka.max_requests) return Reason::max_requests;
  return std::nullopt;
}

asio::awaitable<bool> think(Connection& c, const ThinkTime& t) {
  const double ms = sample_think_ms(t, c.rng);
  if (ms <= 0) co_return true;
  c.think_timer.expires_after(from_ms(ms));
  auto [ec] = co_await c.think_timer.async_wait(use_nothrow);
  co_return !ec && !c.core.stopping;
}

// Reads, answers and decides after one request. nullopt: the connection stays open.
asio::awaitable<std::optional<Reason>> serve_one(Connection& c) {
  Core& core = c.core;
  Parser parser;
  parser.header_limit(kMaxHeadBytes);
  parser.body_limit(kMaxRequestBody);
  c.arm(from_ms(core.config.request_timeout_ms));
  auto [ec, n] = co_await http::async_read_header(c, c.buffer, parser, use_nothrow);
  c.disarm();
  ++c.index;
  if (!ec) {
    core.count(&Origin::Counters::requests);
    core.emit(OriginEvent::request, c.id, c.index);
    ec = co_await discard_body(c, parser);
  }
  if (ec) {
    const Reason failed = co_await fail(c, ec);
    co_return failed;
  }
  const auto& req = parser.get();
  const std::optional<Reason> close = fate(core.config.keep_alive, req.keep_alive(), c.index);
  const Reply reply =
      make_reply(core, req.method(), std::string_view(req.target().data(), req.target().size()));
  if (reply.route) {
    const bool waited = co_await think(c, reply.route->think);
    if (!waited) co_return Reason::stopped;
  }
  const bool sent = co_await send(c, reply, !close, req.version() < 11);
  if (!sent) co_return core.stopping ? Reason::stopped : Reason::error;
  co_return close;
}

// Until the first byte of a request. nullopt: bytes are there.
asio::awaitable<std::optional<Reason>> wait_for_request(Connection& c) {
  Core& core = c.core;
  if (c.buffer.size() > 0) co_return std::nullopt;  // pipelined: no idle time in between
  const bool kept = c.served > 0;
  if (kept) {
    core.emit(OriginEvent::idle, c.id, c.index);
    core.set_state(c.state, ConnState::idle, c.id);
  }
  c.arm(from_ms(kept ? core.config.keep_alive.timeout_ms : core.config.request_timeout_ms));
  auto [ec, n] = co_await c.async_read_some(c.buffer.prepare(kFirstRead), use_nothrow);
  c.disarm();
  if (!ec) {
    c.buffer.commit(n);
    core.set_state(c.state, ConnState::active, c.id);
    co_return std::nullopt;
  }
  if (core.stopping) co_return Reason::stopped;
  if (c.timed_out()) co_return kept ? Reason::keep_alive_timeout : Reason::request_timeout;
  co_return is_peer_gone(ec) ? Reason::peer_closed : Reason::error;
}

asio::awaitable<bool> handshake(Connection& c) {
  c.core.emit(OriginEvent::tls_handshake_start, c.id);
  c.arm(from_ms(c.core.config.request_timeout_ms));
  auto [ec] = co_await c.tls()->async_handshake(asio::ssl::stream_base::server, use_nothrow);
  c.disarm();
  SSL* ssl = c.tls()->native_handle();
  std::int64_t outcome = -1;  // failed
  if (!ec) outcome = SSL_session_reused(ssl) ? 1 : 0;
  c.core.emit(OriginEvent::tls_handshake_end, c.id, 0, outcome, ec ? 0 : SSL_version(ssl));
  c.tls_up = !ec;
  co_return !ec;
}

asio::awaitable<Reason> run(Connection& c) {
  if (c.tls()) {
    const bool up = co_await handshake(c);
    if (!up) co_return c.core.stopping ? Reason::stopped : Reason::error;
  }
  for (;;) {
    std::optional<Reason> closing = co_await wait_for_request(c);
    if (closing) co_return *closing;
    closing = co_await serve_one(c);
    if (closing) co_return *closing;
  }
}

// Closing a socket with unread input makes the kernel send a reset, which can destroy the
// last response before the client read it: half-close, then drain (bounded) until the client
// closes too. Only when input is left.
asio::awaitable<void> linger(Connection& c) {
  error_code ec;
  if (c.buffer.size() == 0 && c.socket().available(ec) == 0) co_return;
  c.buffer.clear();
  c.socket().shutdown(tcp::socket::shutdown_send, ec);
  c.arm(kLingerTime);
  std::vector<char> sink(16 * 1024);
  for (std::size_t total = 0; total < kLingerBytes;) {
    auto [rec, n] = co_await c.socket().async_read_some(asio::buffer(sink), use_nothrow);
    if (rec) break;
    total += n;
  }
  c.disarm();
}

// Our close_notify, without waiting for the peer's (as HTTP servers do): OpenSSL is told the
// peer's came already, so the shutdown completes once ours is written.
asio::awaitable<void> close_notify(Connection& c) {
  SSL_set_shutdown(c.tls()->native_handle(), SSL_RECEIVED_SHUTDOWN);
  c.arm(kTlsCloseWait);
  co_await c.tls()->async_shutdown(use_nothrow);  // a failure changes nothing: we close
  c.disarm();
}

asio::awaitable<void> finish(Connection& c, Reason reason) {
  if (!c.core.stopping) {
    if (!c.tls())
      co_await linger(c);
    else if (c.tls_up && reason != Reason::peer_closed)
      co_await close_notify(c);
  }
  c.close();
}

}  // namespace

asio::awaitable<void> serve_connection(Core& core, tcp::socket socket, std::uint64_t id) {
  auto conn = std::make_shared<Connection>(core, std::move(socket), id);
  Connection& c = *conn;
  core.aborters.emplace(id, [&c] { c.abort(); });
  core.set_state(c.state, ConnState::active, id);
  Reason reason = Reason::stopped;
  try {
    if (!core.stopping) reason = co_await run(c);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "satlink origin: connection %llu: %s\n",
                 static_cast<unsigned long long>(id), e.what());
    reason = Reason::error;
  }
  co_await finish(c, reason);
  core.aborters.erase(id);
  --core.open;
  {
    std::lock_guard lock(core.mutex);
    core.counters.open = core.open;
  }
  core.emit(OriginEvent::close, id, 0, static_cast<std::int64_t>(c.served),
            static_cast<std::int64_t>(reason));
  core.set_state(c.state, ConnState::closed, id);
  if (core.slot_freed) core.slot_freed->cancel();  // the accept loop may wait for a slot
}

}  // namespace satlink::simulator::detail
