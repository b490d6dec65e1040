// The test page's HTML: generating it from a Page (with its padding to html_size), finding the
// resources a browser would fetch first in any HTML (a tolerant tag scanner), and validating a
// Page. Resource bodies and checksums are in page_body.cpp.
#include "satlink/simulator/page.hpp"

#include <algorithm>
#include <array>
#include <map>

#include "page_filler.hpp"

namespace satlink::simulator {

namespace {

using page_detail::kAlphabet;
using page_detail::kGolden;
using page_detail::mix;

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lower(c);
  return out;
}

std::string_view media_type(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  return content_type;
}

enum class Kind { stylesheet, script, image, other };

Kind kind_of(const Resource& r) {
  const std::string type = lower(media_type(r.content_type));
  if (type == "text/css") return Kind::stylesheet;
  if (type.ends_with("/javascript")) return Kind::script;
  if (type.starts_with("image/")) return Kind::image;
  return Kind::other;
}

std::string escape_attribute(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Deterministic filler for the padding comment: letters and digits only, so it can never
// close the comment early; a line break every 100 characters keeps the file readable.
std::string padding(std::uint64_t bytes) {
  constexpr std::string_view open = "<!-- ", close = " -->\n";
  if (bytes < open.size() + close.size()) return std::string(bytes, '\n');
  std::string out(open);
  const std::uint64_t fill = bytes - open.size() - close.size();
  for (std::uint64_t i = 0; i < fill; ++i)
    out += (i % 100 == 99) ? '\n' : kAlphabet[mix(kGolden * (i + 1)) % 62];
  out += close;
  return out;
}

std::string natural_html(const Page& page, std::string* tail) {
  std::string head =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>Satlink test page</title>\n";
  std::string body = "<body>\n<h1>Satlink test page</h1>\n";
  for (const Resource& r : page.resources) {
    const std::string p = escape_attribute(r.path);
    switch (kind_of(r)) {
      case Kind::stylesheet:
        head += "<link rel=\"stylesheet\" href=\"" + p + "\">\n";
        break;
      case Kind::script:
        body += "<script src=\"" + p + "\"></script>\n";
        break;
      case Kind::image:
        body += "<img src=\"" + p + "\" alt=\"\">\n";
        break;
      case Kind::other:
        body += "<p><a href=\"" + p + "\">" + p + "</a></p>\n";
        break;
    }
  }
  *tail = "</body>\n</html>\n";
  return head + "</head>\n" + body;
}

// A tolerant tag scanner, enough for what browsers fetch first (not a full HTML5 tokenizer).
class TagScanner {
 public:
  explicit TagScanner(std::string_view html) : s_(html) {}

  // Advances to the next start tag; false at the end. Skips comments, end tags, doctype.
  bool next(std::string& name, std::map<std::string, std::string>& attributes) {
    for (;;) {
      const std::size_t lt = s_.find('<', pos_);
      if (lt == std::string_view::npos || lt + 1 >= s_.size()) return false;
      pos_ = lt + 1;
      if (s_.substr(lt, 4) == "<!--") {
        const std::size_t end = s_.find("-->", lt + 4);
        pos_ = end == std::string_view::npos ? s_.size() : end + 3;
        continue;
      }
      if (!is_alpha(s_[pos_])) {  // </x>, <!doctype>, <?x>, or a stray '<'
        if (s_[pos_] == '/' || s_[pos_] == '!' || s_[pos_] == '?') skip_past('>');
        continue;
      }
      name.clear();
      while (pos_ < s_.size() && !is_space(s_[pos_]) && s_[pos_] != '>' && s_[pos_] != '/')
        name += lower(s_[pos_++]);
      attributes.clear();
      return read_attributes(attributes);  // a tag cut by the end of input is dropped
    }
  }

  // After <script> or <style>: their content is text, not markup.
  void skip_raw_text(std::string_view tag) {
    const std::string end = "</" + std::string(tag);
    while (pos_ < s_.size()) {
      const std::size_t lt = s_.find('<', pos_);
      if (lt == std::string_view::npos) break;
      pos_ = lt + 1;
      if (lower(s_.substr(lt, end.size())) == end) {
        skip_past('>');
        return;
      }
    }
    pos_ = s_.size();
  }

 private:
  static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
  }
  static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
  void skip_space() {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
  }
  void skip_past(char c) {
    const std::size_t at = s_.find(c, pos_);
    pos_ = at == std::string_view::npos ? s_.size() : at + 1;
  }

  // True when the tag ended with '>'.
  bool read_attributes(std::map<std::string, std::string>& attributes) {
    for (;;) {
      skip_space();
      if (pos_ >= s_.size()) return false;
      if (s_[pos_] == '>') {
        ++pos_;
        return true;
      }
      if (s_[pos_] == '/') {
        ++pos_;
        continue;
      }
      std::string name;
      while (pos_ < s_.size() && !is_space(s_[pos_]) && s_[pos_] != '>' && s_[pos_] != '/' &&
             s_[pos_] != '=')
        name += lower(s_[pos_++]);
      if (name.empty()) name += s_[pos_++];  // a stray '=': keep going
      skip_space();
      std::string value;
      if (pos_ < s_.size() && s_[pos_] == '=') {
        ++pos_;
        skip_space();
        value = read_value();
      }
      attributes.emplace(std::move(name), decode_entities(value));  // the first one wins
    }
  }

  std::string read_value() {
    if (pos_ >= s_.size()) return {};
    const char quote = s_[pos_];
    std::size_t end;
    if (quote == '"' || quote == '\'') {
      ++pos_;
      end = s_.find(quote, pos_);
      if (end == std::string_view::npos) end = s_.size();
      std::string v(s_.substr(pos_, end - pos_));
      pos_ = std::min(end + 1, s_.size());
      return v;
    }
    end = pos_;
    while (end < s_.size() && !is_space(s_[end]) && s_[end] != '>') ++end;
    std::string v(s_.substr(pos_, end - pos_));
    pos_ = end;
    return v;
  }

  static std::string decode_entities(std::string_view v) {
    static const std::array<std::pair<std::string_view, char>, 6> named{{{"&amp;", '&'},
                                                                         {"&lt;", '<'},
                                                                         {"&gt;", '>'},
                                                                         {"&quot;", '"'},
                                                                         {"&apos;", '\''},
                                                                         {"&#39;", '\''}}};
    std::string out;
    for (std::size_t i = 0; i < v.size();) {
      bool done = false;
      for (const auto& [entity, ch] : named) {
        if (v.substr(i, entity.size()) == entity) {
          out += ch;
          i += entity.size();
          done = true;
          break;
        }
      }
      if (!done) out += v[i++];
    }
    return out;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

std::string trim(std::string_view s) {
  const auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

bool has_token(std::string_view list, std::string_view token) {
  const std::string l = lower(list);
  std::size_t pos = 0;
  while (pos < l.size()) {
    const std::size_t end = std::min(l.find_first_of(" \t\n\r\f", pos), l.size());
    if (std::string_view(l).substr(pos, end - pos) == token) return true;
    pos = end + 1;
  }
  return false;
}

}  // namespace

double sample_think_ms(const ThinkTime& t, Rng& rng) {
  return std::max(0.0, t.ms + sample_ms(t.jitter, rng));
}

std::string page_html(const Page& page) {
  std::string tail;
  std::string html = natural_html(page, &tail);
  const std::uint64_t natural = html.size() + tail.size();
  if (page.html_size > natural) html += padding(page.html_size - natural);
  return html + tail;
}

// What a browser changes in a URL's path (the WHATWG URL path percent-encode set), or where
// it cuts it ('#' starts a fragment).
bool needs_percent_encoding(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c <= 0x20 || c >= 0x7f || std::string_view("\"#<>`{}").find(ch) != std::string_view::npos;
}

std::vector<std::string> html_resource_urls(std::string_view html) {
  std::vector<std::string> urls;
  TagScanner scanner(html);
  std::string name;
  std::map<std::string, std::string> attrs;
  while (scanner.next(name, attrs)) {
    std::string url;
    if (name == "link" && has_token(attrs["rel"], "stylesheet") &&
        !has_token(attrs["rel"], "alternate"))
      url = trim(attrs["href"]);
    else if (name == "script" || name == "img")
      url = trim(attrs["src"]);
    if (!url.empty()) urls.push_back(std::move(url));
    if (name == "script" || name == "style") scanner.skip_raw_text(name);
  }
  return urls;
}

std::vector<std::string> validate(const Page& page) {
  std::vector<std::string> problems;
  auto check_path = [&](const std::string& where, const std::string& path) {
    if (path.empty()) {
      problems.push_back(where + ": path is empty");
      return;
    }
    if (path.front() != '/')
      problems.push_back(where + ": path \"" + path + "\" must start with '/'");
    // The origin matches targets byte for byte, so a path must reach it as written.
    if (std::any_of(path.begin(), path.end(), needs_percent_encoding))
      problems.push_back(where + ": path \"" + path +
                         "\" has a character a browser would percent-encode or cut (space, "
                         "control, non-ASCII, \"#<>`{})");
  };
  check_path("page", page.path);
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < page.resources.size(); ++i) {
    const Resource& r = page.resources[i];
    const std::string where = "resources[" + std::to_string(i) + "]";
    check_path(where, r.path);
    if (!r.path.empty() && r.path == page.path)
      problems.push_back(where + ": path \"" + r.path + "\" is the page's own path");
    const auto [it, fresh] = seen.emplace(r.path, i);
    if (!fresh && !r.path.empty())
      problems.push_back(where + ": path \"" + r.path + "\" duplicates resources[" +
                         std::to_string(it->second) + "]");
    if (r.content_type.empty()) problems.push_back(where + ": content type is empty");
    if (r.size > kMaxResourceSize)
      problems.push_back(where + ": size " + std::to_string(r.size) + " is over 4 GiB");
    if (r.think && r.think->ms < 0) problems.push_back(where + ": think time is negative");
  }
  if (page.html_size != 0) {
    Page natural = page;
    natural.html_size = 0;
    const std::uint64_t size = page_html(natural).size();
    if (page.html_size < size)
      problems.push_back("html_size " + std::to_string(page.html_size) +
                         " is smaller than the page's natural HTML (" + std::to_string(size) +
                         " bytes)");
    if (page.html_size > kMaxHtmlSize)
      problems.push_back("html_size " + std::to_string(page.html_size) + " is over 64 MiB");
  }
  return problems;
}

}  // namespace satlink::simulator
