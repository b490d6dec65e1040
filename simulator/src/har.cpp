#include "satlink/simulator/har.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string_view>

namespace satlink::simulator {

namespace {

using nlohmann::json;

constexpr double kTimeTolerance = 0.01;  // ms: rounding of each timing to the microsecond
constexpr const char* kHttpVersion = "HTTP/1.1";

// Microseconds are plenty for a viewer and keep files stable across platforms.
double round_us(double ms) {
  return ms < 0 ? -1 : std::round(ms * 1000) / 1000;
}

std::string status_text(int status) {
  static const std::map<int, std::string> texts{{200, "OK"},
                                                {204, "No Content"},
                                                {206, "Partial Content"},
                                                {301, "Moved Permanently"},
                                                {302, "Found"},
                                                {304, "Not Modified"},
                                                {400, "Bad Request"},
                                                {403, "Forbidden"},
                                                {404, "Not Found"},
                                                {405, "Method Not Allowed"},
                                                {408, "Request Timeout"},
                                                {413, "Content Too Large"},
                                                {431, "Request Header Fields Too Large"},
                                                {500, "Internal Server Error"},
                                                {501, "Not Implemented"},
                                                {502, "Bad Gateway"},
                                                {503, "Service Unavailable"},
                                                {504, "Gateway Timeout"}};
  const auto it = texts.find(status);
  return it == texts.end() ? "" : it->second;
}

std::string page_id(std::uint32_t user) {
  return "page_" + std::to_string(user + 1);
}

template <typename T>
const T* at_index(const std::vector<T>& v, std::uint32_t i) {
  return i < v.size() ? &v[i] : nullptr;
}

json timings_json(const RequestMetrics& r) {
  // HAR requires send, wait and receive >= 0: a phase that never happened is 0 there.
  return {{"blocked", round_us(r.blocked_ms)},
          {"dns", round_us(r.dns_ms)},
          {"connect", round_us(r.connect_ms)},
          {"ssl", round_us(r.ssl_ms)},
          {"send", std::max(0.0, round_us(r.send_ms))},
          {"wait", std::max(0.0, round_us(r.wait_ms))},
          {"receive", std::max(0.0, round_us(r.receive_ms))}};
}

double timings_sum(const json& timings) {
  double sum = 0;
  for (const char* key : {"blocked", "dns", "connect", "send", "wait", "receive"}) {
    if (timings.contains(key) && timings[key].is_number() && timings[key].get<double>() > 0) {
      sum += timings[key].get<double>();
    }
  }
  return sum;
}

json entry_json(const RequestMetrics& r, const HarPage& page) {
  const std::string* path = at_index(page.paths, r.resource_index);
  const std::string* type = at_index(page.types, r.resource_index);
  const std::string url =
      page.url_base +
      (path ? *path : "/satlink-unknown-resource-" + std::to_string(r.resource_index));
  const json timings = timings_json(r);
  const bool answered = r.status != 0;
  return {
      {"pageref", page_id(r.user)},
      {"startedDateTime", iso8601_utc(r.queued_ns + page.wall_offset_ns)},
      {"time", round_us(timings_sum(timings))},
      {"request",
       {{"method", "GET"},
        {"url", url},
        {"httpVersion", kHttpVersion},
        {"cookies", json::array()},
        {"headers", json::array()},
        {"queryString", json::array()},
        {"headersSize", -1},
        {"bodySize", 0}}},
      {"response",
       {{"status", r.status},
        {"statusText", status_text(r.status)},
        {"httpVersion", kHttpVersion},
        {"cookies", json::array()},
        {"headers", json::array()},
        {"content", {{"size", r.body_bytes}, {"mimeType", type ? *type : "x-unknown"}}},
        {"redirectURL", ""},
        {"headersSize", -1},
        {"bodySize", answered ? json(r.body_bytes) : json(-1)}}},
      {"cache", json::object()},
      {"timings", timings},
      {"connection", std::to_string(r.connection)},
      {"_user", r.user},
      {"_reused", r.reused},
      {"_complete", r.complete},
      {"_checksum_ok", r.checksum_ok},
      {"_error", std::string(to_string(r.error))},
  };
}

json page_json(std::uint32_t user, std::int64_t start_ns, double on_load_ms, const HarPage& page,
               bool several) {
  return {{"startedDateTime", iso8601_utc(start_ns + page.wall_offset_ns)},
          {"id", page_id(user)},
          {"title", several ? page.title + " (user " + std::to_string(user) + ")" : page.title},
          {"pageTimings", {{"onContentLoad", -1}, {"onLoad", round_us(on_load_ms)}}}};
}

json pages_json(const std::vector<RequestMetrics>& requests, const HarPage& page) {
  std::map<std::uint32_t, std::pair<std::int64_t, double>> pages;  // user -> start, onLoad
  for (const PageLoad& p : page.loads) pages[p.user] = {p.start_ns, p.load_ms()};
  for (const RequestMetrics& r : requests) {
    if (page.loads.end() != std::find_if(page.loads.begin(), page.loads.end(),
                                         [&](const PageLoad& p) { return p.user == r.user; })) {
      continue;
    }
    const auto [it, fresh] = pages.try_emplace(r.user, r.queued_ns, -1.0);
    if (!fresh) it->second.first = std::min(it->second.first, r.queued_ns);
  }
  json out = json::array();
  for (const auto& [user, p] : pages) {
    out.push_back(page_json(user, p.first, p.second, page, pages.size() > 1));
  }
  return out;
}

// --- validation ------------------------------------------------------------------------------

// Digits at s[at, at + n) reading a number in [lo, hi].
bool number_at(std::string_view s, std::size_t at, std::size_t n, int lo, int hi) {
  if (s.size() < at + n) return false;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  return v >= lo && v <= hi;
}

// HAR's date format, ISO 8601: YYYY-MM-DDThh:mm:ss[.s...](Z|+hh:mm|-hh:mm). By hand: std::regex
// is slow and draws false warnings from g++ 12.
bool is_iso8601(std::string_view s) {
  const auto at = [&](std::size_t i, char c) { return i < s.size() && s[i] == c; };
  if (!(number_at(s, 0, 4, 0, 9999) && at(4, '-') && number_at(s, 5, 2, 1, 12) && at(7, '-') &&
        number_at(s, 8, 2, 1, 31) && at(10, 'T') && number_at(s, 11, 2, 0, 23) && at(13, ':') &&
        number_at(s, 14, 2, 0, 59) && at(16, ':') && number_at(s, 17, 2, 0, 60))) {
    return false;
  }
  std::size_t i = 19;
  if (at(i, '.')) {
    const std::size_t first_digit = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == first_digit) return false;
  }
  if (at(i, 'Z')) return i + 1 == s.size();
  return (at(i, '+') || at(i, '-')) && number_at(s, i + 1, 2, 0, 23) && at(i + 3, ':') &&
         number_at(s, i + 4, 2, 0, 59) && i + 6 == s.size();
}

enum class Kind { string, number, object, array };

class Checker {
 public:
  std::vector<std::string> problems;

  // The field must be there with the right type; reports and returns false otherwise.
  bool need(const json& parent, const std::string& path, const char* key, Kind kind) {
    if (!parent.contains(key)) {
      problems.push_back(path + "." + key + ": missing");
      return false;
    }
    return type(parent[key], path + "." + key, kind);
  }
  bool type(const json& value, const std::string& path, Kind kind) {
    static constexpr const char* names[] = {"a string", "a number", "an object", "an array"};
    const bool ok = (kind == Kind::string && value.is_string()) ||
                    (kind == Kind::number && value.is_number()) ||
                    (kind == Kind::object && value.is_object()) ||
                    (kind == Kind::array && value.is_array());
    if (!ok) problems.push_back(path + ": must be " + names[static_cast<int>(kind)]);
    return ok;
  }
  void all(const json& parent, const std::string& path,
           std::initializer_list<std::pair<const char*, Kind>> fields) {
    for (const auto& [key, kind] : fields) need(parent, path, key, kind);
  }
  void date(const json& parent, const std::string& path) {
    if (!need(parent, path, "startedDateTime", Kind::string)) return;
    const std::string value = parent["startedDateTime"].get<std::string>();
    if (!is_iso8601(value)) {
      problems.push_back(path + ".startedDateTime: not ISO 8601 (YYYY-MM-DDThh:mm:ss.sTZD): \"" +
                         value + "\"");
    }
  }
  // -1 means "not applicable"; any other negative value is an error.
  void timing(const json& parent, const std::string& path, const char* key, bool required) {
    if (!parent.contains(key) && !required) return;
    if (!need(parent, path, key, Kind::number)) return;
    const double v = parent[key].get<double>();
    if (required && v < 0) {
      problems.push_back(path + "." + key + ": must be >= 0, got " + parent[key].dump());
    } else if (!required && v < 0 && v != -1) {
      problems.push_back(path + "." + key + ": must be >= 0 or -1, got " + parent[key].dump());
    }
  }
};

void check_page(Checker& c, const json& p, const std::string& path) {
  if (!c.type(p, path, Kind::object)) return;
  c.date(p, path);
  c.all(p, path, {{"id", Kind::string}, {"title", Kind::string}});
  if (c.need(p, path, "pageTimings", Kind::object)) {
    c.timing(p["pageTimings"], path + ".pageTimings", "onContentLoad", false);
    c.timing(p["pageTimings"], path + ".pageTimings", "onLoad", false);
  }
}

void check_request(Checker& c, const json& r, const std::string& path) {
  c.all(r, path,
        {{"method", Kind::string},
         {"url", Kind::string},
         {"httpVersion", Kind::string},
         {"cookies", Kind::array},
         {"headers", Kind::array},
         {"queryString", Kind::array},
         {"headersSize", Kind::number},
         {"bodySize", Kind::number}});
}

void check_response(Checker& c, const json& r, const std::string& path) {
  c.all(r, path,
        {{"status", Kind::number},
         {"statusText", Kind::string},
         {"httpVersion", Kind::string},
         {"cookies", Kind::array},
         {"headers", Kind::array},
         {"redirectURL", Kind::string},
         {"headersSize", Kind::number},
         {"bodySize", Kind::number}});
  if (c.need(r, path, "content", Kind::object)) {
    c.all(r["content"], path + ".content", {{"size", Kind::number}, {"mimeType", Kind::string}});
  }
}

void check_timings(Checker& c, const json& entry, const std::string& path) {
  const json& t = entry["timings"];
  const std::string tp = path + ".timings";
  for (const char* key : {"send", "wait", "receive"}) c.timing(t, tp, key, true);
  for (const char* key : {"blocked", "dns", "connect", "ssl"}) c.timing(t, tp, key, false);
  const auto number = [&](const char* key) {
    return t.contains(key) && t[key].is_number() ? t[key].get<double>() : -1.0;
  };
  if (number("ssl") > number("connect") + kTimeTolerance) {
    c.problems.push_back(tp + ".ssl: " + t["ssl"].dump() + " exceeds connect, which includes it");
  }
  if (!entry.contains("time") || !entry["time"].is_number()) return;
  const double sum = timings_sum(t);
  if (std::abs(entry["time"].get<double>() - sum) > kTimeTolerance) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", sum);
    c.problems.push_back(path + ".time: " + entry["time"].dump() +
                         " is not the sum of the timings without ssl (" + buf + ")");
  }
}

void check_entry(Checker& c, const json& e, const std::string& path,
                 const std::set<std::string>& page_ids) {
  if (!c.type(e, path, Kind::object)) return;
  c.date(e, path);
  if (c.need(e, path, "time", Kind::number) && e["time"].get<double>() < 0) {
    c.problems.push_back(path + ".time: must be >= 0, got " + e["time"].dump());
  }
  if (c.need(e, path, "request", Kind::object)) check_request(c, e["request"], path + ".request");
  if (c.need(e, path, "response", Kind::object)) {
    check_response(c, e["response"], path + ".response");
  }
  c.need(e, path, "cache", Kind::object);
  if (c.need(e, path, "timings", Kind::object)) check_timings(c, e, path);
  if (e.contains("connection")) c.need(e, path, "connection", Kind::string);
  if (e.contains("pageref") && c.need(e, path, "pageref", Kind::string) &&
      !page_ids.contains(e["pageref"].get<std::string>())) {
    c.problems.push_back(path + ".pageref: no page has id " + e["pageref"].dump());
  }
}

}  // namespace

std::string iso8601_utc(std::int64_t wall_ns) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{floor<milliseconds>(nanoseconds{wall_ns})};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf;
}

json har_document(const std::vector<RequestMetrics>& requests, const HarPage& page) {
  json entries = json::array();
  for (const RequestMetrics& r : requests) entries.push_back(entry_json(r, page));
  return {{"log",
           {{"version", "1.2"},
            {"creator", {{"name", "satlink-workbench"}, {"version", page.creator_version}}},
            {"pages", pages_json(requests, page)},
            {"entries", std::move(entries)}}}};
}

std::vector<std::string> validate_har(const json& har) {
  Checker c;
  if (!c.type(har, "$", Kind::object) || !c.need(har, "$", "log", Kind::object)) {
    return c.problems;
  }
  const json& log = har["log"];
  c.need(log, "log", "version", Kind::string);
  if (c.need(log, "log", "creator", Kind::object)) {
    c.all(log["creator"], "log.creator", {{"name", Kind::string}, {"version", Kind::string}});
  }
  std::set<std::string> page_ids;
  if (log.contains("pages") && c.need(log, "log", "pages", Kind::array)) {
    for (std::size_t i = 0; i < log["pages"].size(); ++i) {
      const json& p = log["pages"][i];
      check_page(c, p, "log.pages[" + std::to_string(i) + "]");
      if (p.is_object() && p.contains("id") && p["id"].is_string()) page_ids.insert(p["id"]);
    }
  }
  if (c.need(log, "log", "entries", Kind::array)) {
    for (std::size_t i = 0; i < log["entries"].size(); ++i) {
      check_entry(c, log["entries"][i], "log.entries[" + std::to_string(i) + "]", page_ids);
    }
  }
  return c.problems;
}

}  // namespace satlink::simulator
