#include "http_head.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>

namespace satlink::proxycore::detail {

namespace {
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) { return beast::iequals(a, b); }

// Calls f(token) for every comma-separated token of every `name` field.
template <class Fields, class F>
void for_each_token(const Fields& fields, http::field name, F&& f) {
  for (auto it = fields.find(name); it != fields.end() && it->name() == name; ++it) {
    std::string_view v = it->value();
    while (!v.empty()) {
      const auto comma = v.find(',');
      const auto tok = trim(v.substr(0, comma));
      if (!tok.empty()) f(tok);
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
}

struct ConnectionTokens {
  bool close = false, keep_alive = false, upgrade = false;
};

template <class Fields>
ConnectionTokens connection_tokens(const Fields& f) {
  ConnectionTokens t;
  for_each_token(f, http::field::connection, [&](std::string_view tok) {
    if (iequals(tok, "close")) t.close = true;
    if (iequals(tok, "keep-alive")) t.keep_alive = true;
    if (iequals(tok, "upgrade")) t.upgrade = true;
  });
  return t;
}

bool is_hop_by_hop(http::field f) {
  switch (f) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::te:
    case http::field::trailer:
    case http::field::transfer_encoding:
    case http::field::upgrade:
      return true;
    default:
      return false;
  }
}

// Copies end-to-end fields: drops the fixed hop-by-hop set and whatever Connection names.
template <class In, class Out>
void copy_end_to_end(const In& in, Out& out) {
  std::vector<std::string_view> named;
  for_each_token(in, http::field::connection, [&](std::string_view t) { named.push_back(t); });
  for (const auto& f : in) {
    if (is_hop_by_hop(f.name())) continue;
    bool drop = false;
    for (auto n : named) drop = drop || iequals(n, f.name_string());
    if (!drop) out.insert(f.name(), f.name_string(), f.value());
  }
}

// Appends to a list-valued field, keeping every line the message already had (RFC 9110
// section 5.3: repeated lines are one comma-separated list).
template <class Out>
void append_field(Out& out, std::string_view name, std::string_view value) {
  std::string joined;
  for (auto it = out.find(name); it != out.end() && beast::iequals(it->name_string(), name); ++it) {
    joined += it->value();
    joined += ", ";
  }
  joined += value;
  out.set(name, joined);
}

template <class Fields>
bool framing_fields_ok(const Fields& f) {
  const auto te = f.count(http::field::transfer_encoding);
  const auto cl = f.count(http::field::content_length);
  if (te > 1) return false;
  if (te == 1) {
    // Only a lone, exact "chunked" is accepted: anything else is an obfuscation attempt.
    if (cl != 0 || !iequals(trim(f[http::field::transfer_encoding]), "chunked")) return false;
  }
  if (cl > 1) {
    auto it = f.find(http::field::content_length);
    const std::string_view first = trim(it->value());
    for (; it != f.end() && it->name() == http::field::content_length; ++it)
      if (trim(it->value()) != first) return false;
  }
  return true;
}
}  // namespace

bool head_bytes_are_strict(std::string_view head) {
  for (std::size_t i = 0; i < head.size(); ++i) {
    const char c = head[i];
    if (c == '\0') return false;
    if (c == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n')) return false;
    if (c == '\n') {
      if (i == 0 || head[i - 1] != '\r') return false;
      if (i + 1 < head.size() && (head[i + 1] == ' ' || head[i + 1] == '\t')) return false;
    }
  }
  return true;
}

awaitable<HeadRead> read_head(Stream& s, beast::flat_buffer& buf, std::size_t limit,
                              std::chrono::milliseconds idle, std::chrono::milliseconds head,
                              std::size_t read_size) {
  HeadRead r;
  std::size_t scanned = 0;
  bool have_first = buf.size() > 0;
  if (have_first) r.first_byte = Clock::now();
  s.arm(have_first ? head : idle);
  for (;;) {
    // RFC 9112 section 2.2: ignore empty lines before a request line.
    while (buf.size() >= 2 && std::string_view(static_cast<const char*>(buf.data().data()), 2) ==
                                  "\r\n") {
      buf.consume(2);
      scanned = 0;
    }
    const std::string_view data(static_cast<const char*>(buf.data().data()), buf.size());
    // A head ends at the first empty line; "\n\n" ends it too, so that a bare-LF head is
    // rejected by the strict check instead of waiting for a CRLF that never comes.
    const auto crlf = data.find("\r\n\r\n", scanned);
    const auto lf = data.find("\n\n", scanned);
    if (const auto end = std::min(crlf, lf); end != std::string_view::npos) {
      r.size = end + (end == crlf ? 4 : 2);
      r.status = r.size > limit ? HeadStatus::too_large : HeadStatus::ok;
      s.disarm();
      co_return r;
    }
    if (data.size() > limit) {
      r.status = HeadStatus::too_large;
      co_return r;
    }
    scanned = data.size() >= 3 ? data.size() - 3 : 0;
    auto [ec, n] = co_await s.async_read_some(buf.prepare(read_size), use_nothrow);
    buf.commit(n);
    if (n > 0 && !have_first) {
      have_first = true;
      r.first_byte = Clock::now();
      s.arm(head);
    }
    if (ec) {
      if (s.timed_out())
        r.status = have_first ? HeadStatus::timeout : HeadStatus::idle_timeout;
      else if (!have_first)
        r.status = HeadStatus::closed;
      else
        r.status = ec == asio::error::eof ? HeadStatus::malformed : HeadStatus::io_error;
      co_return r;
    }
  }
}

ErrorKind validate_request(const RequestParser& p) {
  const auto& m = p.get();
  if (m.version() != 10 && m.version() != 11) return ErrorKind::bad_request;
  if (m.method() == http::verb::connect) return ErrorKind::not_implemented;
  const std::string_view target = m.target();
  const bool origin_form = !target.empty() && target.front() == '/';
  const bool absolute_form = target.starts_with("http://") || target.starts_with("https://");
  const bool asterisk = target == "*" && m.method() == http::verb::options;
  if (!origin_form && !absolute_form && !asterisk) return ErrorKind::bad_request;
  const auto hosts = m.count(http::field::host);
  if (hosts > 1 || (m.version() == 11 && hosts == 0)) return ErrorKind::bad_request;
  if (!framing_fields_ok(m)) return ErrorKind::bad_request;
  if (m.version() == 10 && m.count(http::field::transfer_encoding) != 0)
    return ErrorKind::bad_request;  // RFC 9112 section 6.1: chunked needs HTTP/1.1
  return ErrorKind::none;
}

bool validate_response(const ResponseParser& p) {
  const auto& m = p.get();
  return (m.version() == 10 || m.version() == 11) && framing_fields_ok(m);
}

RequestFacts request_facts(const RequestParser& p) {
  const auto& m = p.get();
  const auto t = connection_tokens(m);
  RequestFacts f;
  f.http10 = m.version() == 10;
  f.connection_close = t.close;
  f.connection_keep_alive = t.keep_alive;
  f.upgrade = t.upgrade && m.count(http::field::upgrade) == 1 && !f.http10;
  f.is_head = m.method() == http::verb::head;
  return f;
}

ResponseFacts response_facts(const ResponseParser& p) {
  const auto& m = p.get();
  const auto t = connection_tokens(m);
  ResponseFacts f;
  f.http10 = m.version() == 10;
  f.connection_close = t.close;
  f.connection_keep_alive = t.keep_alive;
  f.status = static_cast<int>(m.result_int());
  f.length_known = p.chunked() || p.content_length().has_value();
  return f;
}

void make_server_request(const RequestParser& in, ConnFate server_fate, const ForwardOptions& o,
                         OutRequest& out) {
  const auto& m = in.get();
  out.method_string(m.method_string());
  out.version(11);
  std::string_view target = m.target();
  copy_end_to_end(m, out);
  if (target.starts_with("http://") || target.starts_with("https://")) {
    // Absolute form: the authority replaces Host (RFC 9112 section 3.2.2).
    target.remove_prefix(target.find("//") + 2);
    const auto end = target.find_first_of("/?#");
    out.set(http::field::host, target.substr(0, end));
    target = end == std::string_view::npos ? std::string_view() : target.substr(end);
    if (target.empty() || target.front() != '/') {
      out.target("/" + std::string(target));  // "http://host?q" asks for "/?q"
      target = {};
    }
  }
  if (!target.empty()) out.target(target);
  if (server_fate == ConnFate::tunnel) {
    out.set(http::field::upgrade, m[http::field::upgrade]);
    out.set(http::field::connection, "upgrade");
  } else if (server_fate == ConnFate::close) {
    out.set(http::field::connection, "close");
  }
  if (o.add_via) {
    std::string via = m.version() == 10 ? "1.0 " : "1.1 ";
    via += o.via_name;
    append_field(out, "Via", via);
  }
  if (o.add_x_forwarded_for) append_field(out, "X-Forwarded-For", o.client_ip);
  if (in.chunked()) out.chunked(true);
}

void make_client_response(const ResponseParser& in, const RequestFacts& req, ConnFate client_fate,
                          ClientFraming framing, const ForwardOptions& o, OutResponse& out) {
  const auto& m = in.get();
  out.result(m.result_int());
  out.reason(m.reason());
  out.version(11);
  copy_end_to_end(m, out);
  const bool interim = m.result_int() >= 100 && m.result_int() < 200 && m.result_int() != 101;
  if (client_fate == ConnFate::tunnel) {
    out.set(http::field::upgrade, m[http::field::upgrade]);
    out.set(http::field::connection, "upgrade");
  } else if (!interim && client_fate == ConnFate::close) {
    out.set(http::field::connection, "close");
  } else if (!interim && req.http10) {
    out.set(http::field::connection, "keep-alive");
  }
  if (o.add_via) {
    std::string via = m.version() == 10 ? "1.0 " : "1.1 ";
    via += o.via_name;
    append_field(out, "Via", via);
  }
  if (framing == ClientFraming::chunked ||
      (framing == ClientFraming::as_origin && in.chunked())) {
    out.chunked(true);
  }
}

std::string error_response(int status) {
  const auto reason = http::obsolete_reason(static_cast<http::status>(status));
  std::string body = "<html><body><h1>" + std::to_string(status) + " " + std::string(reason) +
                     "</h1>\n" + "satlink-proxy could not complete this request.\n</body></html>\n";
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  r += "Content-Type: text/html\r\nCache-Control: no-cache\r\nConnection: close\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  return r + body;
}

}  // namespace satlink::proxycore::detail
