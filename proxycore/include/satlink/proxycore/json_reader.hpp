// Reading JSON into structs with errors that name the JSON path and the reason, all errors at
// once, unknown keys rejected: a Reader carries the path and the error list, and field tables
// (one per struct) drive reading, writing and the allowed keys. Used by the proxy's config and
// by the simulator's scenario files.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "satlink/proxycore/config_json.hpp"

namespace satlink::proxycore::json_reader {

using nlohmann::json;

constexpr std::uint64_t kMaxPort = 65535;
constexpr std::uint64_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kMaxTimeoutMs = 86'400'000;  // a day; anything longer is surely a typo
constexpr std::size_t kMaxFileBytes = 16 * 1024 * 1024;
// Values and keys are quoted back in messages; a hostile multi-megabyte string must not be.
constexpr std::size_t kMaxQuotedBytes = 64;
constexpr std::size_t kMaxParseDetailBytes = 200;
// Each error costs ~150 bytes, so a 16 MiB file of tiny unknown keys could otherwise turn into
// gigabytes of messages. No hand-written configuration comes near this.
constexpr std::size_t kMaxErrors = 1000;

// ASCII-only escaping, so control and bidi characters never reach a terminal or log raw.
inline std::string quote(std::string_view s) {
  std::string cut(s.substr(0, kMaxQuotedBytes));
  if (cut.size() < s.size()) cut += "...";
  return json(cut).dump(-1, ' ', true, json::error_handler_t::replace);
}

// Containers are named, never dumped: dump() recurses, so deep nesting would overflow the stack.
inline std::string describe(const json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  if (v.is_string()) return quote(v.get_ref<const std::string&>());
  if (v.is_binary()) return "binary data";
  return v.dump();  // null, booleans and numbers are short by nature
}

inline std::string format_number(double d) {
  std::string s = json(d).dump();
  if (s.size() > 2 && s.ends_with(".0")) s.resize(s.size() - 2);
  return s;
}

template <class Pred>
bool all_chars(std::string_view s, Pred pred) {
  for (char c : s) {
    if (!pred(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}
inline bool is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
// Keys from the document may contain dots or brackets; those are quoted so paths stay unambiguous.
inline bool is_plain_key(std::string_view k) {
  return k.size() <= kMaxQuotedBytes &&
         all_chars(k, [](unsigned char c) { return is_alnum(c) || c == '_' || c == '-'; });
}

// Checks on string values: nullptr when fine, else the reason (", got <value>" is appended).
using Check = const char* (*)(std::string_view);
inline const char* any_text(std::string_view) {
  return nullptr;
}
inline const char* non_empty(std::string_view s) {
  return s.empty() ? "must not be empty" : nullptr;
}
// Host names and bind addresses are resolved later; catch the obviously broken ones now.
inline const char* host_like(std::string_view s) {
  return all_chars(s, [](unsigned char c) { return c > 0x20 && c != 0x7f; })
             ? nullptr
             : "must be a non-empty host or address without spaces or control characters";
}
// RFC 9110 tchar: via_name goes verbatim into the Via header as a pseudonym.
inline const char* http_token(std::string_view s) {
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return all_chars(s, [&](unsigned char c) { return is_alnum(c) || kExtra.find(c) != kExtra.npos; })
             ? nullptr
             : "must be a non-empty token (letters, digits and !#$%&'*+-.^_`|~)";
}

inline std::string join(const std::vector<std::string_view>& names) {
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

  // An error found by another reader that already knows its full path.
  void fail_at(std::string at, std::string reason) {
    std::swap(path_, at);
    fail(std::move(reason));
    std::swap(path_, at);
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

  // A number (integer or not) in lo..hi.
  std::optional<double> real(const json& v, double lo, double hi) {
    if (v.is_number()) {
      const double d = v.get<double>();
      if (d >= lo && d <= hi) return d;
    }
    fail("must be a number in " + format_number(lo) + ".." + format_number(hi) + ", got " +
         describe(v));
    return std::nullopt;
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string base_path_;
  std::vector<ConfigError>& errors_;
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
template <auto M, double Lo, double Hi>
constexpr Field<StructOf<M>> decimal(std::string_view key) {
  return {key,
          [](Reader& r, const json& v, StructOf<M>& s) {
            if (auto d = r.real(v, Lo, Hi)) s.*M = static_cast<TypeOf<M>>(*d);
          },
          [](const StructOf<M>& s) { return json(s.*M); }};
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

// nlohmann's parse error as "invalid JSON at line L, column C: detail", printable ASCII only.
std::string parse_error_reason(const json::exception& e);
// Reads and parses a file of at most 16 MiB; on failure returns null and appends one error.
std::optional<json> read_json_file(const std::string& file, std::vector<ConfigError>& errors);
}  // namespace satlink::proxycore::json_reader
