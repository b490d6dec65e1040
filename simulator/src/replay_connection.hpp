// Private to the replay client (replay.cpp, replay_exchange.cpp): a client connection's byte stream (plain or TLS),
// the TLS client context with a per-user session slot, request text, URL resolution, and the
// reading of one response with its body streamed through the checksum.
#pragma once

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "satlink/simulator/page.hpp"
#include "satlink/simulator/replay.hpp"

namespace satlink::simulator::replay_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using Strand = asio::strand<asio::io_context::executor_type>;

inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// A hostile server cannot make a connection hold more than one head and one read.
inline constexpr std::size_t kMaxHeadBytes = 64 * 1024;
inline constexpr std::size_t kReadSize = 64 * 1024;
inline constexpr std::size_t kBufferLimit = kMaxHeadBytes + kReadSize;

inline void log_client(EventLog* log, ClientEvent kind, std::uint64_t conn, std::uint64_t request,
                       std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t t_ns) {
  if (!log) return;
  log->add(make_event(Component::client, kind, t_ns != 0 ? t_ns : now_ns(), conn, request, a, b, c));
}

// The co_spawn completion handler's report: expected errors are values, this is for the rest.
inline void report_crash(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "satlink replay: a coroutine ended by an exception: %s\n", ex.what());
  }
}

// ---- TLS ----------------------------------------------------------------------------------

// The first session a user's connections got; offered by its later connections.
class SessionSlot {
 public:
  SessionSlot() = default;
  ~SessionSlot() {
    if (session_) SSL_SESSION_free(session_);
  }
  SessionSlot(const SessionSlot&) = delete;
  SessionSlot& operator=(const SessionSlot&) = delete;
  bool take(SSL_SESSION* s) {  // true: the slot keeps the reference
    if (session_) return false;
    session_ = s;
    return true;
  }
  SSL_SESSION* get() const { return session_; }

 private:
  SSL_SESSION* session_ = nullptr;
};

inline int session_slot_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// TLS 1.3 tickets arrive after the handshake, with the first application data; the callback
// catches them whenever they come (SSL_get1_session right after the handshake would not).
inline int on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* slot = static_cast<SessionSlot*>(SSL_get_ex_data(ssl, session_slot_index()));
  return slot && slot->take(session) ? 1 : 0;
}

// No verification: the origin's certificate is self-signed and the link is ours.
inline std::unique_ptr<asio::ssl::context> make_tls_context(int version, bool resume) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_verify_mode(asio::ssl::verify_none);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(native, version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION);
  if (resume) {
    // Sessions go to the user's slot through the callback, never to a cache shared by users.
    SSL_CTX_set_session_cache_mode(native,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(native, on_new_session);
  } else {
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
  }
  return ctx;
}

// ---- the stream ---------------------------------------------------------------------------

class Stream {
 public:
  Stream(const Strand& strand, asio::ssl::context* tls) : plain_(strand) {
    if (tls) tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(strand, *tls);
  }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : plain_; }
  asio::ssl::stream<tcp::socket>* tls() { return tls_.get(); }

  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer b) {
    if (tls_) co_return co_await tls_->async_read_some(b, use_nothrow);
    co_return co_await plain_.async_read_some(b, use_nothrow);
  }
  asio::awaitable<error_code> write(std::string_view bytes) {
    const auto b = asio::buffer(bytes.data(), bytes.size());
    if (tls_) {
      auto [ec, n] = co_await asio::async_write(*tls_, b, use_nothrow);
      co_return ec;
    }
    auto [ec, n] = co_await asio::async_write(plain_, b, use_nothrow);
    co_return ec;
  }
  // Idempotent; every pending operation ends. A TLS session is marked as properly ended:
  // otherwise OpenSSL takes the connection for a broken one and the session stops being
  // resumable. (No close_notify: browsers and the origin do not wait for one.)
  void close() {
    if (tls_) SSL_set_shutdown(tls_->native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    error_code ignored;
    socket().close(ignored);
  }

 private:
  tcp::socket plain_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
};

// ---- a connection and its requests ---------------------------------------------------

struct Request {
  std::uint64_t id = 0;
  std::uint32_t index = 0;
  std::string target;
  bool retried = false;  // sent once on a connection that closed before answering it
};

struct Conn {
  Conn(const Strand& strand, asio::ssl::context* tls, std::uint64_t conn_id)
      : id(conn_id), stream(strand, tls), buffer(kBufferLimit), wake(strand) {}
  const std::uint64_t id;
  Stream stream;
  beast::flat_buffer buffer;
  asio::steady_timer wake;        // an idle connection waits on it; cancel() wakes it
  std::deque<Request*> inflight;  // assigned, in order; the first `written` are on the wire
  std::size_t written = 0;
  std::uint64_t sent = 0, answered = 0;
  bool connected = false, reusable = true, parked = false;
  std::int64_t last_read_ns = 0;
};

// The SNI name of a Host header: without its port; empty for an IP literal (RFC 6066 section
// 3: SNI carries host names only).
inline std::string sni_name(const std::string& host_header) {
  if (host_header.starts_with("[")) return "";
  const std::string host = host_header.substr(0, host_header.find(':'));
  error_code ec;
  asio::ip::make_address(host, ec);
  return ec ? host : "";
}

inline std::chrono::nanoseconds to_duration(double ms) {
  ms = std::min(ms, 1e12);  // 31 years: no overflow in nanoseconds
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double, std::milli>(ms));
}

// Throws std::invalid_argument naming the option; returns the address to connect to.
inline tcp::endpoint check_options(const ReplayOptions& options) {
  auto bad = [](const std::string& what) { throw std::invalid_argument("replay: " + what); };
  error_code ec;
  const auto address = asio::ip::make_address(options.host, ec);
  if (ec) bad("host must be a numeric address, got \"" + options.host + "\"");
  if (options.port == 0) bad("port must be 1..65535, got 0");
  if (options.host_header.empty() ||
      options.host_header.find_first_of(" \t\r\n") != std::string::npos)
    bad("host_header must be a non-empty host without spaces, got \"" + options.host_header + "\"");
  if (!options.page_path.starts_with("/") ||
      options.page_path.find_first_of(" \t\r\n") != std::string::npos)
    bad("page_path must start with '/' and hold no spaces, got \"" + options.page_path + "\"");
  if (options.connections_per_host < 1 || options.connections_per_host > 64)
    bad("connections_per_host must be 1..64, got " + std::to_string(options.connections_per_host));
  if (options.pipelining < 1 || options.pipelining > 64)
    bad("pipelining must be 1..64, got " + std::to_string(options.pipelining));
  if (options.users < 1 || options.users > 10000)
    bad("users must be 1..10000, got " + std::to_string(options.users));
  if (options.tls_version != 0 && options.tls_version != 12 && options.tls_version != 13)
    bad("tls_version must be 0, 12 or 13, got " + std::to_string(options.tls_version));
  if (!std::isfinite(options.timeout_ms) || options.timeout_ms <= 0)
    bad("timeout_ms must be > 0, got " + std::to_string(options.timeout_ms));
  if (!std::isfinite(options.idle_hold_ms) || options.idle_hold_ms < 0)
    bad("idle_hold_ms must be >= 0, got " + std::to_string(options.idle_hold_ms));
  return tcp::endpoint(address, options.port);
}

// ---- requests -----------------------------------------------------------------------------

inline std::string request_text(const ReplayOptions& o, std::string_view target) {
  const bool http10 = o.http_version == HttpVersion::http10;
  std::string s = "GET ";
  s.append(target);
  s += http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n";
  s += "Host: " + o.host_header + "\r\nUser-Agent: satlink-replay\r\nAccept: */*\r\n";
  if (!o.keep_alive)
    s += "Connection: close\r\n";
  else if (http10)
    s += "Connection: keep-alive\r\n";  // HTTP/1.0 keeps a connection only when asked
  return s + "\r\n";
}

// A URL of the HTML as an origin-form target on the one host the replay talks to. Absolute
// and scheme-relative URLs keep their path; relative ones resolve against the page's
// directory (no dot-segment removal). Other schemes (data:, mailto:) are not fetched: nullopt.
inline std::optional<std::string> resolve_target(std::string_view page_path, std::string_view url) {
  url = url.substr(0, url.find('#'));
  std::string path;
  const std::size_t colon = url.find(':');
  const bool has_scheme = colon != std::string_view::npos && colon < url.find('/');
  if (has_scheme && !url.starts_with("http://") && !url.starts_with("https://"))
    return std::nullopt;
  if (has_scheme || url.starts_with("//")) {
    const std::size_t host = has_scheme ? colon + 3 : 2;
    const std::size_t slash = url.find('/', host);
    path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  } else if (url.starts_with("/")) {
    path = url;
  } else {
    path = std::string(page_path.substr(0, page_path.rfind('/') + 1)) + std::string(url);
  }
  std::string out;  // what may not travel in a request line is percent-encoded
  for (const unsigned char ch : path) {
    if (ch > 0x20 && ch < 0x7f) {
      out += static_cast<char>(ch);
      continue;
    }
    static constexpr char hex[] = "0123456789ABCDEF";
    out += '%';
    out += hex[ch >> 4];
    out += hex[ch & 15];
  }
  return out;
}

// ---- responses ----------------------------------------------------------------------------

// A Beast body that keeps no bytes: it counts them and runs them through the checksum. The
// page's HTML is also appended to `html` (bounded by the parser's body limit).
struct ChecksumBody {
  struct value_type {
    BodyChecksum sum;
    std::uint64_t bytes = 0;
    std::string* html = nullptr;
  };
  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>&, value_type& v) : v_(v) {}
    void init(const boost::optional<std::uint64_t>&, error_code& ec) { ec = {}; }
    template <class Buffers>
    std::size_t put(const Buffers& buffers, error_code& ec) {
      ec = {};
      std::size_t n = 0;
      for (const auto b : beast::buffers_range_ref(buffers)) {
        const std::string_view piece(static_cast<const char*>(b.data()), b.size());
        v_.sum.update(piece);
        if (v_.html) v_.html->append(piece);
        n += piece.size();
      }
      v_.bytes += n;
      return n;
    }
    void finish(error_code& ec) { ec = {}; }

   private:
    value_type& v_;
  };
};

struct Response {
  ClientError error = ClientError::none;  // none: a complete message (status and body below)
  error_code ec;                          // the cause of a failure
  bool got_bytes = false;                 // any byte of this response arrived
  int status = 0;
  std::uint64_t bytes = 0;
  int checksum = -1;  // 1 matches X-Satlink-Checksum (and the length), 0 differs, -1 no header
  bool keep = false;  // the connection may carry another request
  std::int64_t end_ns = 0;
};

inline bool is_checksum_hex(std::string_view v) {
  return v.size() == 16 && std::all_of(v.begin(), v.end(), [](char ch) {
           return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
         });
}

inline void verify(const http::response_parser<ChecksumBody>& p, Response& out) {
  const auto& msg = p.get();
  out.status = static_cast<int>(msg.result_int());
  out.bytes = msg.body().bytes;
  const auto length = p.content_length();
  const bool size_ok = !length || *length == out.bytes;
  const auto it = msg.find("X-Satlink-Checksum");
  if (it != msg.end()) {
    std::string value(it->value().data(), it->value().size());
    std::transform(value.begin(), value.end(), value.begin(), [](char ch) {
      return ch >= 'A' && ch <= 'F' ? static_cast<char>(ch + 32) : ch;
    });
    out.checksum = is_checksum_hex(value) && value == checksum_hex(msg.body().sum.value()) ? 1 : 0;
  }
  if (!size_ok) out.checksum = 0;
  out.keep = p.keep_alive();
}

// Reads one response. `last_read_ns` is the time of the connection's latest read: bytes left
// in `buffer` by the previous response (pipelining) arrived then. `on_first_byte(t)` runs once,
// when the response's first byte is known to have arrived (before it is parsed).
inline asio::awaitable<Response> read_response(Stream& stream, beast::flat_buffer& buffer,
                                               std::int64_t& last_read_ns, std::string* html,
                                               std::function<void(std::int64_t)> on_first_byte) {
  Response out;
  http::response_parser<ChecksumBody> p;
  p.header_limit(kMaxHeadBytes);
  if (html)
    p.body_limit(kMaxHtmlSize);
  else
    p.body_limit(boost::none);  // resources up to 4 GiB stream through
  p.eager(true);
  p.get().body().html = html;
  for (;;) {
    if (buffer.size() > 0) {
      if (!out.got_bytes) on_first_byte(last_read_ns);
      out.got_bytes = true;
      error_code ec;
      const std::size_t used = p.put(buffer.data(), ec);
      buffer.consume(used);
      if (p.is_done()) break;
      if (ec && ec != http::error::need_more) {
        out.error = ClientError::bad_response;
        out.ec = ec;
        co_return out;
      }
    }
    const std::size_t room = std::min(kReadSize, buffer.max_size() - buffer.size());
    auto [ec, n] = co_await stream.read_some(buffer.prepare(room));
    last_read_ns = now_ns();
    buffer.commit(n);
    const bool eof = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
    if (eof && buffer.size() == 0 && p.is_header_done()) {
      error_code eof_ec;
      p.put_eof(eof_ec);  // a body delimited by the close (no Content-Length, not chunked)
      if (!eof_ec && p.is_done()) break;
    }
    if (ec && n == 0) {
      out.error = ClientError::io_error;
      out.ec = ec;
      co_return out;
    }
  }
  verify(p, out);
  out.end_ns = last_read_ns;
  co_return out;
}

}  // namespace satlink::simulator::replay_detail
