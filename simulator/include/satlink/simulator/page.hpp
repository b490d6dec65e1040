// The page under test: its resources, its HTML, and deterministic bodies a client can verify
// end to end. Pure functions, no sockets, no Boost.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "satlink/simulator/random.hpp"

namespace satlink::simulator {

// Server time before a response: ms plus a jitter sample, never below 0.
struct ThinkTime {
  double ms = 0;
  Jitter jitter;
  bool operator==(const ThinkTime&) const = default;
};

double sample_think_ms(const ThinkTime& t, Rng& rng);

struct Resource {
  std::string path;                // request target, starts with '/'
  std::string content_type;        // decides how the HTML refers to it (see page_html)
  std::uint64_t size = 0;          // body bytes
  std::optional<ThinkTime> think;  // empty: the origin's default
};

struct Page {
  std::string path = "/";
  // 0: the HTML's natural size. Larger: padded with a deterministic HTML comment (or newlines
  // when fewer than 10 bytes are missing) to exactly this many bytes. Smaller: invalid.
  std::uint64_t html_size = 0;
  std::vector<Resource> resources;
};

// Limits checked by validate().
inline constexpr std::uint64_t kMaxResourceSize = 4ULL << 30;  // 4 GiB
inline constexpr std::uint64_t kMaxHtmlSize = 64ULL << 20;     // the HTML is built in memory

// A real HTML5 document referring to each resource exactly once:
//  - text/css                 -> <link rel="stylesheet" href=...> in <head>
//  - */javascript             -> <script src=...></script> in <body>
//  - image/*                  -> <img src=... alt=""> in <body>
//  - anything else            -> <a href=...> in <body> (a browser does not fetch it)
// Document order: the stylesheets in the page's order, then every other resource in the
// page's order. Paths are escaped for HTML attributes.
std::string page_html(const Page& page);

// Resource bodies. The byte at offset i is a function of (path, i) only, so any slice can be
// generated on its own: 64-byte lines of "//", 61 characters of [A-Za-z0-9+/] drawn from a
// PRNG keyed by FNV-1a(path) (one 64-bit draw per 8-byte block), and '\n'. JavaScript reads it
// as comments, CSS ignores it; images are not decodable (the transfer is what is measured).
void fill_body(std::string_view path, std::uint64_t offset, std::span<char> out);

// FNV-1a 64 over a body, in one go or incrementally (a client verifying a streamed body).
// The origin sends it as `X-Satlink-Checksum: <16 hex digits>`; the HTML's is over page_html.
class BodyChecksum {
 public:
  void update(std::string_view bytes);
  std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

std::uint64_t body_checksum(std::string_view path, std::uint64_t size);
std::string checksum_hex(std::uint64_t checksum);  // 16 lower-case hex digits

// What a browser fetches from an HTML document: href of <link rel="stylesheet"> (not
// "alternate"), src of <script> and <img>, in document order, entities decoded. Tolerant:
// any case, quoted or unquoted attributes; skips comments and the content of <script>/<style>.
std::vector<std::string> html_resource_urls(std::string_view html);

// Human-readable problems; empty when the page can be served.
std::vector<std::string> validate(const Page& page);

}  // namespace satlink::simulator
