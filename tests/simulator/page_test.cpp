// The page under test without sockets: its HTML, deterministic bodies, checksums, validation.
#include "satlink/simulator/page.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace satlink::simulator {
namespace {

Page sample_page() {
  Page p;
  p.path = "/index.html";
  p.resources = {
      {"/js/app.js", "application/javascript", 30000, std::nullopt},
      {"/css/site.css", "text/css", 2000, std::nullopt},
      {"/img/hero.png", "image/png", 100000, std::nullopt},
      {"/data.json", "application/json", 10, std::nullopt},
      {"/js/legacy.js", "text/javascript; charset=utf-8", 500, std::nullopt},
      {"/css/print.css", "TEXT/CSS", 700, std::nullopt},
      {"/img/a&b'c.jpg", "image/jpeg", 1, std::nullopt},
  };
  return p;
}

std::size_t occurrences(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + 1))
    ++n;
  return n;
}

std::string whole_body(std::string_view path, std::uint64_t size) {
  std::string s(size, '\0');
  fill_body(path, 0, std::span<char>(s.data(), s.size()));
  return s;
}

TEST(PageHtml, ListsEveryResourceOnceStylesheetsFirstThenPageOrder) {
  const Page page = sample_page();
  const std::string html = page_html(page);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>\n<html"));
  EXPECT_TRUE(html.ends_with("</html>\n"));
  EXPECT_EQ(occurrences(html, "\"/js/app.js\""), 1u);
  EXPECT_EQ(occurrences(html, "\"/data.json\""), 1u);  // an anchor, fetched by nobody
  EXPECT_EQ(occurrences(html, "<link rel=\"stylesheet\" href=\"/css/print.css\">"), 1u);
  EXPECT_EQ(occurrences(html, "<script src=\"/js/legacy.js\"></script>"), 1u);
  EXPECT_EQ(occurrences(html, "<img src=\"/img/hero.png\" alt=\"\">"), 1u);
  EXPECT_LT(html.find("/css/print.css"), html.find("</head>"));
  EXPECT_GT(html.find("/img/hero.png"), html.find("<body>"));
  const std::vector<std::string> expected{"/css/site.css", "/css/print.css", "/js/app.js",
                                          "/img/hero.png", "/js/legacy.js",  "/img/a&b'c.jpg"};
  EXPECT_EQ(html_resource_urls(html), expected);
}

TEST(PageHtml, EscapesPathsInAttributes) {
  const std::string html = page_html(sample_page());
  EXPECT_NE(html.find("src=\"/img/a&amp;b&#39;c.jpg\""), std::string::npos);
  EXPECT_EQ(html.find("a&b"), std::string::npos);
}

TEST(PageHtml, PaddingMakesTheExactSizeAndKeepsTheResources) {
  Page page = sample_page();
  const std::size_t natural = page_html(page).size();
  const auto urls = html_resource_urls(page_html(page));
  for (std::uint64_t extra : {0, 1, 5, 9, 10, 11, 99, 100, 101, 1000, 250000}) {
    page.html_size = natural + extra;
    const std::string html = page_html(page);
    EXPECT_EQ(html.size(), page.html_size) << "extra " << extra;
    EXPECT_EQ(html, page_html(page)) << "deterministic";
    EXPECT_EQ(html_resource_urls(html), urls) << "extra " << extra;
    EXPECT_TRUE(html.ends_with("</body>\n</html>\n"));
  }
  page.html_size = natural - 1;  // too small: invalid, and served at its natural size
  EXPECT_EQ(page_html(page).size(), natural);
}

TEST(HtmlResourceUrls, ToleratesOddQuotingCaseAndMarkup) {
  const std::string html = R"(<!doctype HTML><HTML><HEAD>
<LINK REL=Stylesheet HREF=a.css>
<link href='b.css' rel="preload stylesheet" >
<link rel="alternate stylesheet" href="alt.css">
<link rel="icon" href="favicon.ico">
<!-- <img src="commented.png"> -->
<style>body { background: url("no-bg.png") } </style>
<script SRC = "c.js" defer></script>
<script>var s = '<img src="in-script.png">';</script>
</head><body>
<IMG alt="x > y" src=d.png>
<img src="">
<img data-src="lazy.png">
<img src=" /spaced.png ">
<a href="page2.html">next</a>
<img src="e.png?x=1&amp;y=2"/>
<img src='unterminated
)";
  const std::vector<std::string> expected{"a.css", "b.css",       "c.js",
                                          "d.png", "/spaced.png", "e.png?x=1&y=2"};
  EXPECT_EQ(html_resource_urls(html), expected);
  EXPECT_TRUE(html_resource_urls("").empty());
  EXPECT_TRUE(html_resource_urls("<").empty());
  EXPECT_TRUE(html_resource_urls("<!-- never closed <img src=x.png>").empty());
}

TEST(FillBody, AnySliceEqualsTheSameRangeOfTheWhole) {
  const std::string path = "/js/app.js";
  const std::string whole = whole_body(path, 10007);
  for (const auto& [offset, size] : std::vector<std::pair<std::size_t, std::size_t>>{
           {0, 1}, {1, 7}, {7, 9}, {63, 2}, {64, 64}, {1000, 3333}, {10000, 7}, {5, 10002}}) {
    std::string slice(size, '\0');
    fill_body(path, offset, std::span<char>(slice.data(), slice.size()));
    EXPECT_EQ(slice, whole.substr(offset, size)) << offset << "+" << size;
  }
  EXPECT_NE(whole, whole_body("/js/other.js", 10007));
}

TEST(FillBody, IsTextLinesOfCommentsForJavaScript) {
  const std::string body = whole_body("/x", 64 * 3 + 10);
  for (std::size_t line = 0; line < 3; ++line) {
    EXPECT_EQ(body.substr(line * 64, 2), "//");
    EXPECT_EQ(body[line * 64 + 63], '\n');
  }
  EXPECT_TRUE(std::all_of(body.begin(), body.end(),
                          [](char c) { return c == '\n' || (c > ' ' && c < 0x7f); }));
}

TEST(Checksum, IncrementalEqualsWholeAndIsFnv1a) {
  EXPECT_EQ(BodyChecksum{}.value(), 0xcbf29ce484222325ULL);
  BodyChecksum a;
  a.update("a");
  EXPECT_EQ(a.value(), 0xaf63dc4c8601ec8cULL);  // the published FNV-1a 64 test vector
  EXPECT_EQ(checksum_hex(a.value()), "af63dc4c8601ec8c");
  EXPECT_EQ(checksum_hex(1), "0000000000000001");

  const std::string path = "/img/hero.png";
  const std::uint64_t size = 200003;  // several internal pieces and a ragged end
  const std::string whole = whole_body(path, size);
  BodyChecksum pieces;
  for (std::size_t at = 0, step = 1; at < whole.size(); at += step, step = step * 3 % 7919 + 1)
    pieces.update(std::string_view(whole).substr(at, step));
  BodyChecksum once;
  once.update(whole);
  EXPECT_EQ(pieces.value(), once.value());
  EXPECT_EQ(body_checksum(path, size), once.value());
  EXPECT_EQ(body_checksum(path, 0), BodyChecksum{}.value());
}

TEST(ThinkTime, SamplesAreNeverNegativeAndReproducible) {
  ThinkTime t{5, Jitter{JitterDistribution::uniform, 50}};
  Rng r1(7), r2(7);
  bool clamped = false;
  for (int i = 0; i < 200; ++i) {
    const double s = sample_think_ms(t, r1);
    EXPECT_GE(s, 0);
    EXPECT_LE(s, 55);
    EXPECT_EQ(s, sample_think_ms(t, r2));
    clamped = clamped || s == 0;
  }
  EXPECT_TRUE(clamped);
  Rng r3(1);
  EXPECT_EQ(sample_think_ms(ThinkTime{12.5, {}}, r3), 12.5);
}

bool mentions(const std::vector<std::string>& problems, std::string_view text) {
  return std::any_of(problems.begin(), problems.end(),
                     [&](const std::string& p) { return p.find(text) != std::string::npos; });
}

TEST(Validate, AcceptsAGoodPageAndNamesEachProblem) {
  EXPECT_TRUE(validate(sample_page()).empty());
  EXPECT_TRUE(validate(Page{}).empty());

  auto one = [](auto change) {
    Page p = sample_page();
    change(p);
    return validate(p);
  };
  auto p = one([](Page& pg) { pg.path = ""; });
  EXPECT_TRUE(mentions(p, "page: path is empty")) << testing::PrintToString(p);
  p = one([](Page& pg) { pg.path = "index.html"; });
  EXPECT_TRUE(mentions(p, "must start with '/'")) << testing::PrintToString(p);
  p = one([](Page& pg) { pg.resources[2].path = ""; });
  EXPECT_TRUE(mentions(p, "resources[2]: path is empty")) << testing::PrintToString(p);
  p = one([](Page& pg) { pg.resources[1].path = "css/site.css"; });
  EXPECT_TRUE(mentions(p, "resources[1]: path \"css/site.css\" must start"))
      << testing::PrintToString(p);
  for (const char* bad : {"/a b.css", "/a\"b.css", "/a<b.css", "/a#b", "/a\tb", "/caf\xc3\xa9"}) {
    p = one([&](Page& pg) { pg.resources[1].path = bad; });
    EXPECT_TRUE(mentions(p, "resources[1]: path")) << bad;
    EXPECT_TRUE(mentions(p, "a browser would percent-encode")) << testing::PrintToString(p);
  }
  p = one([](Page& pg) { pg.resources[3].path = "/js/app.js"; });
  EXPECT_TRUE(mentions(p, "resources[3]: path \"/js/app.js\" duplicates resources[0]"))
      << testing::PrintToString(p);
  p = one([](Page& pg) { pg.resources[0].path = "/index.html"; });
  EXPECT_TRUE(mentions(p, "is the page's own path")) << testing::PrintToString(p);
  p = one([](Page& pg) { pg.html_size = 100; });
  EXPECT_TRUE(mentions(p, "html_size 100 is smaller than the page's natural HTML"))
      << testing::PrintToString(p);
  p = one([](Page& pg) { pg.resources[2].size = (4ULL << 30) + 1; });
  EXPECT_TRUE(mentions(p, "resources[2]: size 4294967297 is over 4 GiB"))
      << testing::PrintToString(p);
  p = one([](Page& pg) { pg.resources[2].size = 4ULL << 30; });
  EXPECT_TRUE(p.empty()) << "4 GiB itself is allowed";
  p = one([](Page& pg) { pg.resources[4].content_type = ""; });
  EXPECT_TRUE(mentions(p, "resources[4]: content type is empty")) << testing::PrintToString(p);
  p = one([](Page& pg) { pg.resources[4].think = ThinkTime{-1, {}}; });
  EXPECT_TRUE(mentions(p, "think time is negative")) << testing::PrintToString(p);
}

}  // namespace
}  // namespace satlink::simulator
