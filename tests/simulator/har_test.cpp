// HAR 1.2 from hand-written event logs, its validator, and golden files for HAR and for the
// three CSV files of a run (results, summary, requests) built from the same log.
// SATLINK_UPDATE_GOLDEN=1 rewrites the golden files from the current output.
#include "satlink/simulator/har.hpp"

#include "satlink/simulator/experiment.hpp"
#include "satlink/simulator/results_io.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace satlink::simulator {
namespace {

using nlohmann::json;

constexpr std::int64_t kBase = 5'000'000'000'000;          // steady clock at the trial start
constexpr std::int64_t kWallAtBase = 1714564800000000000;  // 2024-05-01T12:00:00Z

std::int64_t at(double ms) {
  return kBase + std::llround(ms * 1e6);
}

void add(std::vector<LogEvent>& log, double ms, ClientEvent k, std::uint64_t conn,
         std::uint64_t request, std::int64_t a = 0, std::int64_t b = 0, std::int64_t c = 0) {
  log.push_back(
      LogEvent{at(ms), Component::client, static_cast<std::uint8_t>(k), 0, conn, request, a, b, c});
}

void exchange(std::vector<LogEvent>& log, std::uint64_t request, std::uint64_t conn, bool reused,
              double start, double first, double last, std::int64_t body) {
  add(log, start, ClientEvent::request_start, conn, request, reused ? 1 : 0);
  add(log, start + 0.5, ClientEvent::request_sent, conn, request);
  add(log, first, ClientEvent::response_start, conn, request);
  add(log, last, ClientEvent::response_end, conn, request, 200, body, 1);
}

// HTTPS: the HTML on connection 1 (TCP 1 ms + TLS 1200 ms), the stylesheet reusing it, the
// script on connection 2 (TLS resumed).
std::vector<LogEvent> three_requests() {
  std::vector<LogEvent> log;
  add(log, 0, ClientEvent::page_start, 0, 0, 0);
  add(log, 0, ClientEvent::request_queued, 0, 1, 0, 0);
  add(log, 0, ClientEvent::connect_start, 1, 1, 0);
  add(log, 1, ClientEvent::connect_end, 1, 1, 0);
  add(log, 1, ClientEvent::tls_start, 1, 1);
  add(log, 1201, ClientEvent::tls_end, 1, 1, 0);
  exchange(log, 1, 1, false, 1201.25, 1801.5, 1850, 4096);
  add(log, 1850, ClientEvent::request_queued, 0, 2, 1, 0);
  add(log, 1850, ClientEvent::request_queued, 0, 3, 2, 0);
  exchange(log, 2, 1, true, 1850.125, 2450, 2460, 2048);
  add(log, 1850, ClientEvent::connect_start, 2, 3, 0);
  add(log, 1851, ClientEvent::connect_end, 2, 3, 0);
  add(log, 1851, ClientEvent::tls_start, 2, 3);
  add(log, 2451, ClientEvent::tls_end, 2, 3, 1);
  exchange(log, 3, 2, false, 2451, 3051, 3100, 100000);
  add(log, 3100, ClientEvent::page_end, 0, 0, 0, 1);
  return log;
}

HarPage page_for(const std::vector<LogEvent>& log) {
  HarPage page;
  page.title = "three requests";
  page.url_base = "https://127.0.0.1:8443";
  page.paths = {"/", "/style.css", "/app.js"};
  page.types = {"text/html; charset=utf-8", "text/css"};  // the script's type is unknown
  page.loads = page_loads(log);
  page.wall_offset_ns = kWallAtBase - kBase;
  return page;
}

json three_request_har() {
  const auto log = three_requests();
  return har_document(request_metrics(log), page_for(log));
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

TEST(Har, ThreeRequestsAreValid) {
  const json har = three_request_har();
  EXPECT_TRUE(validate_har(har).empty()) << joined(validate_har(har));
  const json& log = har["log"];
  EXPECT_EQ(log["version"], "1.2");
  EXPECT_EQ(log["creator"]["name"], "satlink-workbench");
  ASSERT_EQ(log["pages"].size(), 1u);
  EXPECT_EQ(log["pages"][0]["startedDateTime"], "2024-05-01T12:00:00.000Z");
  EXPECT_EQ(log["pages"][0]["pageTimings"]["onLoad"], 3100.0);
  ASSERT_EQ(log["entries"].size(), 3u);

  const json& html = log["entries"][0];
  EXPECT_EQ(html["request"]["url"], "https://127.0.0.1:8443/");
  EXPECT_EQ(html["timings"]["connect"], 1201.0);  // TCP + TLS
  EXPECT_EQ(html["timings"]["ssl"], 1200.0);
  EXPECT_EQ(html["timings"]["blocked"], 0.25);
  EXPECT_EQ(html["time"], 1850.0);  // ssl inside connect, not added again
  EXPECT_EQ(html["connection"], "1");
  EXPECT_EQ(html["_reused"], false);

  const json& css = log["entries"][1];
  EXPECT_EQ(css["startedDateTime"], "2024-05-01T12:00:01.850Z");
  EXPECT_EQ(css["timings"]["connect"], -1.0);
  EXPECT_EQ(css["timings"]["blocked"], 0.125);
  EXPECT_EQ(css["_reused"], true);
  EXPECT_EQ(css["response"]["content"]["mimeType"], "text/css");

  const json& js = log["entries"][2];
  EXPECT_EQ(js["response"]["content"]["mimeType"], "x-unknown");
  EXPECT_EQ(js["response"]["bodySize"], 100000);
  EXPECT_EQ(js["pageref"], "page_1");
  EXPECT_EQ(js["_error"], "none");
}

std::filesystem::path golden(const char* name) {
  return std::filesystem::path(__FILE__).parent_path() / "golden" / name;
}

TEST(Har, MatchesGoldenFile) {
  const json har = three_request_har();
  const auto path = golden("har_three_requests.json");
  if (std::getenv("SATLINK_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << har.dump(2) << "\n";
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing " << path;
  const json expected = json::parse(in);
  EXPECT_EQ(har, expected) << "got:\n" << har.dump(2);
  EXPECT_TRUE(validate_har(expected).empty());
}

// A run of four trials (2 modes x 2 sweep points), each measured from the three-request log,
// the last one failed: what results.csv, summary.csv and requests.csv say about it, byte for
// byte. A change of a column, a unit or a number format shows here first.
TEST(ResultsCsv, MatchGoldenFiles) {
  const json doc = {{"satlink_scenario", 1},
                    {"name", "golden"},
                    {"page", {{"generate", {{"count", 2}, {"min_bytes", 1000}, {"max_bytes", 1000}}}}},
                    {"experiment",
                     {{"modes", {"keep-alive", "close"}},
                      {"sweep", {{{"path", "client_link.rtt_ms"}, {"values", {100, 600}}}}},
                      {"repetitions", 1}}}};
  const ScenarioResult loaded = load_scenario(doc);
  ASSERT_TRUE(loaded.ok());
  const ExperimentPlan plan = plan_experiment(loaded.scenario);
  ASSERT_EQ(plan.trials.size(), 4u);
  const auto log = three_requests();
  std::vector<TrialResult> results;
  for (const Trial& t : plan.trials) {
    TrialResult r = result_of(t);
    r.metrics = trial_metrics(log);
    r.requests = request_metrics(log);
    r.loads = page_loads(log);
    const PredictionInput in = prediction_input(t);
    r.predicted_seed = predict(in, PredictionModel::seed);
    r.predicted_tcp = predict(in, PredictionModel::tcp);
    results.push_back(r);
  }
  results.back().error = "trial timed out after 120000 ms";
  const std::pair<const char*, std::string> files[] = {
      {"results.csv", results_csv(loaded.scenario, plan, results)},
      {"summary.csv", summary_csv(loaded.scenario, plan, results)},
      {"requests.csv", requests_csv(results)},
  };
  for (const auto& [name, text] : files) {
    const auto path = golden(name);
    if (std::getenv("SATLINK_UPDATE_GOLDEN") != nullptr) std::ofstream(path) << text;
    std::ifstream in(path);
    ASSERT_TRUE(in) << "missing " << path;
    std::stringstream expected;
    expected << in.rdbuf();
    EXPECT_EQ(text, expected.str()) << name << " differs from " << path;
  }
}

TEST(Har, FailedRequestStaysValid) {
  std::vector<LogEvent> log;
  add(log, 0, ClientEvent::page_start, 0, 0, 0);
  add(log, 0, ClientEvent::request_queued, 0, 1, 0, 0);
  add(log, 0, ClientEvent::connect_start, 1, 1, 0);
  add(log, 1, ClientEvent::connect_end, 1, 1, 0);
  add(log, 2, ClientEvent::request_start, 1, 1, 0);
  add(log, 3, ClientEvent::request_sent, 1, 1);
  add(log, 700, ClientEvent::error, 1, 1, static_cast<std::int64_t>(ClientError::io_error));
  add(log, 700, ClientEvent::page_end, 0, 0, 0, 0);
  const json har = har_document(request_metrics(log), page_for(log));
  EXPECT_TRUE(validate_har(har).empty()) << joined(validate_har(har));
  const json& entry = har["log"]["entries"][0];
  EXPECT_EQ(entry["timings"]["wait"], 0.0);  // never happened: 0, as HAR requires >= 0
  EXPECT_EQ(entry["time"], 3.0);
  EXPECT_EQ(entry["response"]["status"], 0);
  EXPECT_EQ(entry["response"]["bodySize"], -1);
  EXPECT_EQ(entry["_error"], "io_error");
  EXPECT_EQ(entry["_complete"], false);
  EXPECT_EQ(har["log"]["pages"][0]["pageTimings"]["onLoad"], -1.0);  // the page failed
}

TEST(Har, OnePagePerUser) {
  std::vector<LogEvent> log;
  add(log, 0, ClientEvent::request_queued, 0, 1, 0, 0);
  add(log, 5, ClientEvent::request_queued, 0, 2, 0, 1);
  exchange(log, 1, 1, false, 1, 10, 20, 1);
  exchange(log, 2, 2, false, 6, 15, 25, 1);
  HarPage page = page_for(log);  // no page events: pages come from the entries
  const json har = har_document(request_metrics(log), page);
  EXPECT_TRUE(validate_har(har).empty()) << joined(validate_har(har));
  ASSERT_EQ(har["log"]["pages"].size(), 2u);
  EXPECT_EQ(har["log"]["pages"][1]["id"], "page_2");
  EXPECT_EQ(har["log"]["pages"][1]["title"], "three requests (user 1)");
  EXPECT_EQ(har["log"]["pages"][1]["startedDateTime"], "2024-05-01T12:00:00.005Z");
  EXPECT_EQ(har["log"]["entries"][1]["pageref"], "page_2");
}

TEST(Har, EmptyIsValid) {
  const json har = har_document({}, HarPage{});
  EXPECT_TRUE(validate_har(har).empty()) << joined(validate_har(har));
  EXPECT_TRUE(har["log"]["entries"].empty());
}

TEST(Har, Iso8601) {
  EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_utc(kWallAtBase + 123'999'999), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(iso8601_utc(kWallAtBase + 86'399'001'000'000), "2024-05-02T11:59:59.001Z");
  EXPECT_EQ(iso8601_utc(951782400000000000), "2000-02-29T00:00:00.000Z");
}

// One broken field, one specific message.
void expect_problem(const json& har, const std::string& expected) {
  const auto problems = validate_har(har);
  ASSERT_EQ(problems.size(), 1u) << joined(problems);
  EXPECT_EQ(problems[0], expected);
}

TEST(HarValidation, SpecificMessages) {
  json har = three_request_har();
  har["log"]["entries"][1]["request"].erase("url");
  expect_problem(har, "log.entries[1].request.url: missing");

  har = three_request_har();
  har["log"]["entries"][0]["timings"]["send"] = -1;  // time no longer matches either: fix it
  har["log"]["entries"][0]["time"] = 1849.5;
  expect_problem(har, "log.entries[0].timings.send: must be >= 0, got -1");

  har = three_request_har();
  har["log"]["entries"][2]["time"] = 700;
  expect_problem(har,
                 "log.entries[2].time: 700 is not the sum of the timings without ssl (1250.000)");

  har = three_request_har();
  har["log"]["entries"][0]["startedDateTime"] = "2024-05-01 12:00:00";
  expect_problem(har,
                 "log.entries[0].startedDateTime: not ISO 8601 (YYYY-MM-DDThh:mm:ss.sTZD): "
                 "\"2024-05-01 12:00:00\"");

  har = three_request_har();
  har["log"]["entries"][0]["timings"]["dns"] = -2;
  har["log"]["entries"][0]["time"] = 1850;
  expect_problem(har, "log.entries[0].timings.dns: must be >= 0 or -1, got -2");

  har = three_request_har();
  har["log"]["entries"][0]["timings"]["ssl"] = 1300.0;
  expect_problem(har, "log.entries[0].timings.ssl: 1300.0 exceeds connect, which includes it");

  har = three_request_har();
  har["log"]["entries"][0]["pageref"] = "page_9";
  expect_problem(har, "log.entries[0].pageref: no page has id \"page_9\"");

  har = three_request_har();
  har["log"]["entries"][0]["response"]["status"] = "200";
  expect_problem(har, "log.entries[0].response.status: must be a number");

  har = three_request_har();
  har["log"]["pages"][0].erase("id");
  EXPECT_FALSE(validate_har(har).empty());  // the id, and the entries' pagerefs

  har = three_request_har();
  har["log"]["creator"].erase("version");
  expect_problem(har, "log.creator.version: missing");

  expect_problem(json::array(), "$: must be an object");
  expect_problem(json::object(), "$.log: missing");
}

TEST(HarValidation, DateFormats) {
  json har = three_request_har();
  for (const char* good : {"2024-05-01T12:00:00.000Z", "2024-05-01T12:00:00Z",
                           "2009-07-24T19:20:30.45+01:00", "2024-12-31T23:59:60.123456-05:30"}) {
    har["log"]["entries"][0]["startedDateTime"] = good;
    EXPECT_TRUE(validate_har(har).empty()) << good;
  }
  for (const char* bad : {"2024-13-01T12:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T12:00:00",
                          "2024-05-01T12:00:00.Z", "2024-05-01T12:00:00Zx", "24-05-01T12:00:00Z",
                          "2024-05-01T12:00:00+0100", ""}) {
    har["log"]["entries"][0]["startedDateTime"] = bad;
    EXPECT_EQ(validate_har(har).size(), 1u) << bad;
  }
}

TEST(HarValidation, TimeToleranceIsTenMicroseconds) {
  json har = three_request_har();
  har["log"]["entries"][0]["time"] = 1850.009;
  EXPECT_TRUE(validate_har(har).empty());
  har["log"]["entries"][0]["time"] = 1850.02;
  EXPECT_EQ(validate_har(har).size(), 1u);
}

}  // namespace
}  // namespace satlink::simulator
