// Loads and validates the proxy configuration. Every input is treated as hostile: nothing here
// throws, recurses into the document, or echoes unbounded text back, and every problem is collected
// with its path so the operator sees all of them in one run instead of fixing them one at a time.
//
// Each struct has one table of fields that drives reading, writing and the list of allowed keys,
// so the three cannot drift apart and proxy_config_to_json always round-trips.
#include "satlink/proxycore/config_json.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>

namespace satlink::proxycore {
namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxPort = 65535;
constexpr std::uint64_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kMaxTimeoutMs = 86'400'000;  // a day; anything longer is surely a typo
constexpr std::uint64_t kMinHeader = 1024;
constexpr std::uint64_t kMaxHeader = 1024 * 1024;
constexpr std::size_t kMaxFileBytes = 16 * 1024 * 1024;
// Values and keys are quoted back in messages; a hostile multi-megabyte string must not be.
constexpr std::size_t kMaxQuotedBytes = 64;
constexpr std::size_t kMaxParseDetailBytes = 200;
// Each error costs ~150 bytes, so a 16 MiB file of tiny unknown keys could otherwise turn into
// gigabytes of messages. No hand-written configuration comes near this.
constexpr std::size_t kMaxErrors = 1000;

constexpr std::array kReusePolicies{ReusePolicy::never, ReusePolicy::safe, ReusePolicy::always};
constexpr std::array kBalances{Balance::roundrobin, Balance::leastconn};
constexpr std::array kTlsVersions{TlsVersion::any, TlsVersion::v1_2, TlsVersion::v1_3};

// ASCII-only escaping, so control and bidi characters never reach a terminal or log raw.
std::string quote(std::string_view s) {
  std::string cut(s.substr(0, kMaxQuotedBytes));
  if (cut.size() < s.size()) cut += "...";
  return json(cut).dump(-1, ' ', true, json::error_handler_t::replace);
}

// Containers are named, never dumped: dump() recurses, so deep nesting would overflow the stack.
std::string describe(const json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  if (v.is_string()) return quote(v.get_ref<const std::string&>());
  if (v.is_binary()) return "binary data";
  return v.dump();  // null, booleans and numbers are short by nature
}

template <class Pred>
bool all_chars(std::string_view s, Pred pred) {
  for (char c : s) {
    if (!pred(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}
bool is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
// Keys from the document may contain dots or brackets; those are quoted so paths stay unambiguous.
bool is_plain_key(std::string_view k) {
  return k.size() <= kMaxQuotedBytes &&
         all_chars(k, [](unsigned char c) { return is_alnum(c) || c == '_' || c == '-'; });
}

// Checks on string values: nullptr when fine, else the reason (", got <value>" is appended).
using Check = const char* (*)(std::string_view);
const char* any_text(std::string_view) {
  return nullptr;
}
const char* non_empty(std::string_view s) {
  return s.empty() ? "must not be empty" : nullptr;
}
// Host names and bind addresses are resolved later; catch the obviously broken ones now.
const char* host_like(std::string_view s) {
  return all_chars(s, [](unsigned char c) { return c > 0x20 && c != 0x7f; })
             ? nullptr
             : "must be a non-empty host or address without spaces or control characters";
}
// RFC 9110 tchar: via_name goes verbatim into the Via header as a pseudonym.
const char* http_token(std::string_view s) {
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return all_chars(s, [&](unsigned char c) { return is_alnum(c) || kExtra.find(c) != kExtra.npos; })
             ? nullptr
             : "must be a non-empty token (letters, digits and !#$%&'*+-.^_`|~)";
}

std::string join(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

class Reader;

// One JSON key of struct S. `read` runs with the path already extended by the key.
template <class S>
struct Field {
  std::string_view key;
  void (*read)(Reader&, const json&, S&);
  json (*write)(const S&);
};

class Reader {
 public:
  Reader(const std::string& base_path, std::vector<ConfigError>& errors)
      : path_(base_path), base_path_(base_path), errors_(errors) {}

  // Appends a path segment for its lifetime, so no early return can leave a stale path behind.
  struct [[nodiscard]] Segment {
    std::string& path;
    std::size_t keep;
    ~Segment() { path.resize(keep); }
  };
  Segment enter(std::string_view key) {
    std::size_t keep = path_.size();
    if (is_plain_key(key)) {
      path_ += (path_.empty() ? "" : ".") + std::string(key);
    } else {
      path_ += "[" + quote(key) + "]";
    }
    return Segment{path_, keep};
  }
  Segment enter(std::size_t index) {
    std::size_t keep = path_.size();
    path_ += "[" + std::to_string(index) + "]";
    return Segment{path_, keep};
  }

  void fail(std::string reason) {
    if (errors_.size() < kMaxErrors) {
      errors_.push_back({path_, std::move(reason)});
    } else if (errors_.size() == kMaxErrors) {
      errors_.push_back({base_path_, "too many errors; only the first " +
                                         std::to_string(kMaxErrors) + " are reported"});
    }
  }

  // Runs `fn` on obj[key] with the path extended by key; absent keys keep their defaults.
  template <class Fn>
  void field(const json& obj, std::string_view key, Fn&& fn) {
    auto it = obj.find(std::string(key));
    if (it == obj.end()) return;
    Segment s = enter(key);
    fn(*it);
  }
  // Runs `fn` on each element with the path extended by [i]; false if v is not an array.
  template <class Fn>
  bool each(const json& v, std::string_view what, Fn&& fn) {
    if (!v.is_array()) {
      fail("must be an array of " + std::string(what) + ", got " + describe(v));
      return false;
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      Segment s = enter(i);
      fn(v[i], i);
    }
    return true;
  }

  std::optional<bool> boolean(const json& v) {
    if (v.is_boolean()) return v.get<bool>();
    fail("must be a boolean, got " + describe(v));
    return std::nullopt;
  }
  // A string that fails `check` is still returned, so later checks see what was written.
  std::optional<std::string> string(const json& v, Check check) {
    if (!v.is_string()) {
      fail("must be a string, got " + describe(v));
      return std::nullopt;
    }
    const std::string& s = v.get_ref<const std::string&>();
    if (const char* reason = check(s)) fail(reason + (s.empty() ? "" : ", got " + quote(s)));
    return s;
  }
  std::optional<std::uint64_t> integer(const json& v, std::uint64_t lo, std::uint64_t hi) {
    std::optional<std::uint64_t> n;
    // Parsed non-negative numbers are unsigned; a json built in code may hold a signed one.
    if (v.is_number_unsigned()) {
      n = v.get<std::uint64_t>();
    } else if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
      n = static_cast<std::uint64_t>(v.get<std::int64_t>());
    }
    if (n && *n >= lo && *n <= hi) return n;
    fail("must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
         describe(v));
    return std::nullopt;
  }
  template <class E, std::size_t N>
  std::optional<E> choice(const json& v, const std::array<E, N>& values) {
    std::string names;
    for (E e : values) {
      if (v.is_string() && v.get_ref<const std::string&>() == to_string(e)) return e;
      names += (names.empty() ? "" : ", ") + quote(to_string(e));
    }
    fail("must be one of " + names + ", got " + describe(v));
    return std::nullopt;
  }

  // Reads the table's fields of an object; `extra` are keys the caller handles itself.
  template <class S, std::size_t N>
  bool object(const json& v, S& s, const std::array<Field<S>, N>& fields,
              std::initializer_list<std::string_view> extra = {}) {
    if (!v.is_object()) {
      fail("must be an object, got " + describe(v));
      return false;
    }
    std::vector<std::string_view> allowed;
    for (const Field<S>& f : fields) allowed.push_back(f.key);
    allowed.insert(allowed.end(), extra);
    for (const auto& item : v.items()) {
      if (std::find(allowed.begin(), allowed.end(), item.key()) != allowed.end()) continue;
      Segment k = enter(item.key());
      fail("unknown key (allowed: " + join(allowed) + ")");
    }
    for (const Field<S>& f : fields) field(v, f.key, [&](const json& x) { f.read(*this, x, s); });
    return true;
  }

  void read_root(const json& root, ProxyConfig& c);

 private:
  void read_backends(const json& root, ProxyConfig& c);
  void read_backend(const json& v, BackendConfig& b);
  void read_servers(const json& v, BackendConfig& b);
  void read_routes(const json& v, ProxyConfig& c);
  void check_backend_exists(const std::string& name) {
    if (backend_names_ && !backend_names_->contains(name)) fail("unknown backend " + quote(name));
  }

  std::string path_;
  std::string base_path_;
  std::vector<ConfigError>& errors_;
  // Names of the backends read; absent when "backends" or a backend's name was unusable, so that
  // one mistake does not also flag every route.
  std::optional<std::set<std::string>> backend_names_;
};

template <class S, std::size_t N>
json write_object(const S& s, const std::array<Field<S>, N>& fields) {
  json j = json::object();
  for (const Field<S>& f : fields) j[std::string(f.key)] = f.write(s);
  return j;
}

// Field factories, keyed by a pointer to the member they fill.
template <class M>
struct MemberTraits;
template <class S, class T>
struct MemberTraits<T S::*> {
  using Struct = S;
  using Type = T;
};
template <auto M>
using StructOf = typename MemberTraits<decltype(M)>::Struct;
template <auto M>
using TypeOf = typename MemberTraits<decltype(M)>::Type;

template <auto M>
constexpr Field<StructOf<M>> flag(std::string_view key) {
  return {key,
          [](Reader& r, const json& v, StructOf<M>& s) {
            if (auto b = r.boolean(v)) s.*M = *b;
          },
          [](const StructOf<M>& s) { return json(s.*M); }};
}
template <auto M, Check C = any_text>
constexpr Field<StructOf<M>> text(std::string_view key) {
  return {key,
          [](Reader& r, const json& v, StructOf<M>& s) {
            if (auto t = r.string(v, C)) s.*M = std::move(*t);
          },
          [](const StructOf<M>& s) { return json(s.*M); }};
}
template <auto M, std::uint64_t Lo, std::uint64_t Hi>
constexpr Field<StructOf<M>> number(std::string_view key) {
  return {key,
          [](Reader& r, const json& v, StructOf<M>& s) {
            if (auto n = r.integer(v, Lo, Hi)) s.*M = static_cast<TypeOf<M>>(*n);
          },
          [](const StructOf<M>& s) { return json(s.*M); }};
}
template <auto M>
constexpr Field<StructOf<M>> millis(std::string_view key) {
  return {key,
          [](Reader& r, const json& v, StructOf<M>& s) {
            if (auto n = r.integer(v, 1, kMaxTimeoutMs))
              s.*M = Millis(static_cast<Millis::rep>(*n));
          },
          [](const StructOf<M>& s) { return json((s.*M).count()); }};
}
template <auto M, const auto& Values>
constexpr Field<StructOf<M>> choice(std::string_view key) {
  return {key,
          [](Reader& r, const json& v, StructOf<M>& s) {
            if (auto e = r.choice(v, Values)) s.*M = *e;
          },
          [](const StructOf<M>& s) { return json(std::string(to_string(s.*M))); }};
}
template <auto M, const auto& Fields>
constexpr Field<StructOf<M>> nested(std::string_view key) {
  return {key, [](Reader& r, const json& v, StructOf<M>& s) { r.object(v, s.*M, Fields); },
          [](const StructOf<M>& s) { return write_object(s.*M, Fields); }};
}

// The two sides share TlsSettings but not its meaning, so each accepts only its own keys.
constexpr std::array kClientTls{
    flag<&TlsSettings::enabled>("enabled"),
    text<&TlsSettings::cert_file>("cert_file"),
    text<&TlsSettings::key_file>("key_file"),
    choice<&TlsSettings::version, kTlsVersions>("version"),
    flag<&TlsSettings::session_resumption>("session_resumption"),
};
constexpr std::array kBackendTls{
    flag<&TlsSettings::enabled>("enabled"),
    text<&TlsSettings::ca_file>("ca_file"),
    text<&TlsSettings::server_name>("server_name"),
    flag<&TlsSettings::verify>("verify"),
    choice<&TlsSettings::version, kTlsVersions>("version"),
    flag<&TlsSettings::session_resumption>("session_resumption"),
};
// An empty pair means "generate a self-signed one"; half a pair is always a mistake.
constexpr Field<ClientSide> kClientTlsField{
    "tls",
    [](Reader& r, const json& v, ClientSide& c) {
      if (r.object(v, c.tls, kClientTls) && c.tls.cert_file.empty() != c.tls.key_file.empty()) {
        r.fail("cert_file and key_file must both be set or both be empty, got cert_file " +
               quote(c.tls.cert_file) + " and key_file " + quote(c.tls.key_file));
      }
    },
    [](const ClientSide& c) { return write_object(c.tls, kClientTls); }};
constexpr std::array kClient{
    text<&ClientSide::bind, host_like>("bind"),
    number<&ClientSide::port, 0, kMaxPort>("port"),
    flag<&ClientSide::keep_alive>("keep_alive"),
    number<&ClientSide::max_requests, 0, kMaxU32>("max_requests"),
    number<&ClientSide::max_header_bytes, kMinHeader, kMaxHeader>("max_header_bytes"),
    number<&ClientSide::max_body_bytes, 0, kMaxU64>("max_body_bytes"),
    flag<&ClientSide::add_via>("add_via"),
    flag<&ClientSide::add_x_forwarded_for>("add_x_forwarded_for"),
    kClientTlsField,
};
constexpr std::array kServerSide{
    flag<&ServerSide::keep_alive>("keep_alive"),
    choice<&ServerSide::reuse, kReusePolicies>("reuse"),
    number<&ServerSide::max_idle_per_server, 0, kMaxU32>("max_idle_per_server"),
    number<&ServerSide::max_header_bytes, kMinHeader, kMaxHeader>("max_header_bytes"),
    number<&ServerSide::retries, 0, kMaxU32>("retries"),
};
constexpr std::array kTimeouts{
    millis<&Timeouts::client>("client_ms"),
    millis<&Timeouts::server>("server_ms"),
    millis<&Timeouts::connect>("connect_ms"),
    millis<&Timeouts::http_request>("http_request_ms"),
    millis<&Timeouts::http_keep_alive>("http_keep_alive_ms"),
    millis<&Timeouts::queue>("queue_ms"),
    millis<&Timeouts::pool_idle>("pool_idle_ms"),
    millis<&Timeouts::grace>("grace_ms"),
};
constexpr std::array kServer{
    text<&ServerConfig::name, non_empty>("name"),
    text<&ServerConfig::host, host_like>("host"),
    number<&ServerConfig::port, 1, kMaxPort>("port"),
    number<&ServerConfig::maxconn, 0, kMaxU32>("maxconn"),
};
constexpr std::array kBackend{
    text<&BackendConfig::name, non_empty>("name"),
    choice<&BackendConfig::balance, kBalances>("balance"),
    number<&BackendConfig::queue_limit, 0, kMaxU32>("queue_limit"),
    nested<&BackendConfig::tls, kBackendTls>("tls"),
};  // + "servers", read by Reader::read_servers
constexpr std::array kRoute{
    text<&Route::host>("host"),
    text<&Route::path_prefix>("path_prefix"),
    text<&Route::backend>("backend"),
};
constexpr std::array kStats{
    flag<&StatsConfig::enabled>("enabled"),
    text<&StatsConfig::bind, host_like>("bind"),
    number<&StatsConfig::port, 0, kMaxPort>("port"),
};
constexpr std::array kRoot{
    nested<&ProxyConfig::client, kClient>("client"),
    nested<&ProxyConfig::server, kServerSide>("server"),
    nested<&ProxyConfig::timeouts, kTimeouts>("timeouts"),
    text<&ProxyConfig::default_backend>("default_backend"),
    text<&ProxyConfig::via_name, http_token>("via_name"),
    number<&ProxyConfig::threads, 1, 256>("threads"),
    nested<&ProxyConfig::stats, kStats>("stats"),
};  // + "backends" and "routes", read by Reader::read_backends and Reader::read_routes

void Reader::read_root(const json& root, ProxyConfig& c) {
  if (!object(root, c, kRoot, {"backends", "routes"})) return;
  read_backends(root, c);
  field(root, "routes", [&](const json& v) { read_routes(v, c); });
  field(root, "default_backend", [&](const json& v) {
    if (v.is_string() && !c.default_backend.empty()) check_backend_exists(c.default_backend);
  });
}

void Reader::read_backends(const json& root, ProxyConfig& c) {
  Segment s = enter("backends");
  auto it = root.find("backends");
  if (it == root.end()) return fail("is required (an array of at least one backend)");
  std::map<std::string, std::size_t> seen;  // name -> index of its first use
  bool is_array = each(*it, "backends", [&](const json& v, std::size_t i) {
    BackendConfig b;
    read_backend(v, b);
    if (b.name.empty()) {
      // already reported, or not an object
    } else if (auto [first, inserted] = seen.emplace(b.name, i); !inserted) {
      Segment n = enter("name");
      fail("duplicate backend name " + quote(b.name) + " (also backends[" +
           std::to_string(first->second) + "])");
    }
    c.backends.push_back(std::move(b));
  });
  if (!is_array) return;
  if (it->empty()) fail("must contain at least one backend");
  // A backend without a usable name might be the one a route means; don't guess.
  bool all_named = std::all_of(c.backends.begin(), c.backends.end(),
                               [](const BackendConfig& b) { return !b.name.empty(); });
  if (!all_named) return;
  backend_names_.emplace();
  for (const auto& [name, index] : seen) backend_names_->insert(name);
}

void Reader::read_backend(const json& v, BackendConfig& b) {
  if (!object(v, b, kBackend, {"servers"})) return;
  for (std::string_view key : {"name", "servers"}) {
    if (v.contains(key)) continue;
    Segment k = enter(key);
    fail(key == "name" ? "is required" : "is required (an array of at least one server)");
  }
  field(v, "servers", [&](const json& servers) { read_servers(servers, b); });
}

void Reader::read_servers(const json& v, BackendConfig& b) {
  std::map<std::string, std::size_t> seen;
  bool is_array = each(v, "servers", [&](const json& sv, std::size_t i) {
    ServerConfig server;
    server.name = "s" + std::to_string(i + 1);  // the default when "name" is absent
    if (!object(sv, server, kServer)) return;
    if (!sv.contains("port")) {
      Segment p = enter("port");
      fail("is required");
    }
    if (auto [first, inserted] = seen.emplace(server.name, i); !inserted && !server.name.empty()) {
      Segment n = enter("name");
      bool named = sv.contains("name");
      fail((named ? "duplicate server name " : "default name ") + quote(server.name) +
           (named ? " (also servers[" : " duplicates servers[") + std::to_string(first->second) +
           "]" + (named ? ")" : "; give this server a name"));
    }
    b.servers.push_back(std::move(server));
  });
  if (is_array && v.empty()) fail("must contain at least one server");
}

void Reader::read_routes(const json& v, ProxyConfig& c) {
  each(v, "routes", [&](const json& rv, std::size_t) {
    Route r;
    if (!object(rv, r, kRoute)) return;
    Segment s = enter("backend");
    auto it = rv.find("backend");
    if (it == rv.end()) {
      fail("is required");
    } else if (it->is_string()) {
      check_backend_exists(r.backend);
    }
    c.routes.push_back(std::move(r));
  });
}

// nlohmann's message carries "at line L, column C: detail"; the detail may quote raw input, so it
// is cut short and reduced to printable ASCII.
std::string parse_error_reason(const json::exception& e) {
  std::string what = e.what();
  std::string_view detail = what;
  std::string reason = "invalid JSON";
  std::size_t line = 0;
  std::size_t column = 0;
  std::size_t at = what.find(" at line ");
  if (at != std::string::npos &&
      std::sscanf(what.c_str() + at, " at line %zu, column %zu", &line, &column) == 2) {
    reason += " at line " + std::to_string(line) + ", column " + std::to_string(column);
    std::size_t colon = what.find(": ", at);
    if (colon != std::string::npos) detail = detail.substr(colon + 2);
  }
  reason += ": ";
  for (char c : detail.substr(0, kMaxParseDetailBytes)) reason += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (detail.size() > kMaxParseDetailBytes) reason += "...";
  return reason;
}

}  // namespace

ConfigResult proxy_config_from_json(const json& j, const std::string& base_path) {
  ConfigResult result;
  try {
    Reader(base_path, result.errors).read_root(j, result.config);
  } catch (const json::exception& e) {
    // The reader checks every type before access, so this is a bug, but never the caller's crash.
    result.errors.push_back({base_path, std::string("internal error: ") + e.what()});
  }
  return result;
}

ConfigResult proxy_config_from_file(const std::string& file) {
  ConfigResult result;
  auto fail = [&](std::string reason) {
    result.errors.push_back({"", std::move(reason)});
    return result;
  };
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr)
    return fail("cannot read " + file + ": " + std::generic_category().message(errno));
  // Read in chunks rather than trusting a size from stat: pipes and /proc files report none.
  std::string text;
  std::array<char, 65536> chunk;
  std::size_t n = 0;
  while (text.size() <= kMaxFileBytes && (n = std::fread(chunk.data(), 1, chunk.size(), f)) > 0) {
    text.append(chunk.data(), n);
  }
  int read_errno = std::ferror(f) != 0 ? errno : 0;
  std::fclose(f);
  if (read_errno != 0)
    return fail("cannot read " + file + ": " + std::generic_category().message(read_errno));
  if (text.size() > kMaxFileBytes) return fail("cannot read " + file + ": larger than 16 MiB");
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return fail(parse_error_reason(e));
  }
  return proxy_config_from_json(j);
}

json proxy_config_to_json(const ProxyConfig& c) {
  json j = write_object(c, kRoot);
  json& backends = j["backends"] = json::array();
  for (const BackendConfig& b : c.backends) {
    json& out = backends.emplace_back(write_object(b, kBackend));
    json& servers = out["servers"] = json::array();
    for (const ServerConfig& s : b.servers) servers.push_back(write_object(s, kServer));
  }
  json& routes = j["routes"] = json::array();
  for (const Route& r : c.routes) routes.push_back(write_object(r, kRoute));
  return j;
}

std::string format_errors(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const ConfigError& e : errors) {
    out += (e.path.empty() ? "(root)" : e.path) + ": " + e.reason + "\n";
  }
  return out;
}

}  // namespace satlink::proxycore
