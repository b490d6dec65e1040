// Resource bodies and their checksums: the deterministic bytes the origin serves for a path
// (fill_body), and the FNV-1a checksum the client verifies them with, computed the same way
// whether streamed (BodyChecksum) or from the path alone (body_checksum). Split from page.cpp,
// which keeps the HTML page; both draw from the filler in page_filler.hpp.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include "page_filler.hpp"
#include "satlink/simulator/page.hpp"

namespace satlink::simulator {

namespace {

using page_detail::kAlphabet;
using page_detail::kGolden;
using page_detail::mix;

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;
constexpr std::uint64_t kLine = 64;  // body line length, '\n' included
constexpr std::size_t kChecksumPiece = 64 * 1024;

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = kFnvOffset;
  for (const char ch : s) {
    h ^= static_cast<unsigned char>(ch);
    h *= kFnvPrime;
  }
  return h;
}

}  // namespace

void fill_body(std::string_view path, std::uint64_t offset, std::span<char> out) {
  const std::uint64_t key = fnv1a(path);
  std::size_t k = 0;
  while (k < out.size()) {
    const std::uint64_t block = (offset + k) / 8;
    const std::uint64_t word = mix(key + block * kGolden);
    for (std::uint64_t j = (offset + k) % 8; j < 8 && k < out.size(); ++j, ++k) {
      const std::uint64_t col = (offset + k) % kLine;
      out[k] = col < 2 ? '/' : col == kLine - 1 ? '\n' : kAlphabet[(word >> (j * 8)) & 63];
    }
  }
}

void BodyChecksum::update(std::string_view bytes) {
  std::uint64_t h = hash_;
  for (const char ch : bytes) {
    h ^= static_cast<unsigned char>(ch);
    h *= kFnvPrime;
  }
  hash_ = h;
}

std::uint64_t body_checksum(std::string_view path, std::uint64_t size) {
  BodyChecksum sum;
  std::string piece(static_cast<std::size_t>(std::min<std::uint64_t>(size, kChecksumPiece)), '\0');
  for (std::uint64_t offset = 0; offset < size; offset += piece.size()) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), size - offset));
    fill_body(path, offset, std::span<char>(piece.data(), n));
    sum.update(std::string_view(piece.data(), n));
  }
  return sum.value();
}

std::string checksum_hex(std::uint64_t checksum) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(checksum));
  return buf;
}

}  // namespace satlink::simulator
