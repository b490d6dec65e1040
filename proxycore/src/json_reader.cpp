// The generic half of JSON reading: parse errors, files, error lists.
#include "satlink/proxycore/json_reader.hpp"

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace satlink::proxycore {

namespace json_reader {

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

std::optional<json> read_json_file(const std::string& file, std::vector<ConfigError>& errors) {
  auto fail = [&](std::string reason) -> std::optional<json> {
    errors.push_back({"", std::move(reason)});
    return std::nullopt;
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
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    return fail(parse_error_reason(e));
  }
}

}  // namespace json_reader

std::string format_errors(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const ConfigError& e : errors) {
    out += (e.path.empty() ? "(root)" : e.path) + ": " + e.reason + "\n";
  }
  return out;
}


}  // namespace satlink::proxycore
