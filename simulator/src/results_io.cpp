#include "satlink/simulator/results_io.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "satlink/simulator/har.hpp"

namespace satlink::simulator {

namespace {

constexpr const char* kVersion = "0.1.0";

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string value_text(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// Predictions travel with the metrics in every table: measured and predicted side by side.
struct PredictedColumn {
  std::string_view name;
  double (*get)(const TrialResult&);
};
const std::vector<PredictedColumn>& predicted_columns() {
  static const std::vector<PredictedColumn> columns{
      {"predicted_seed_page_load_ms", [](const TrialResult& r) { return r.predicted_seed.page_load_ms; }},
      {"predicted_tcp_page_load_ms", [](const TrialResult& r) { return r.predicted_tcp.page_load_ms; }},
      {"predicted_tcp_client_connections",
       [](const TrialResult& r) { return double(r.predicted_tcp.client_connections); }},
      {"predicted_tcp_server_connections",
       [](const TrialResult& r) { return double(r.predicted_tcp.server_connections); }},
      {"predicted_tcp_client_setup_ms", [](const TrialResult& r) { return r.predicted_tcp.client_setup_ms; }},
      {"predicted_tcp_server_setup_ms", [](const TrialResult& r) { return r.predicted_tcp.server_setup_ms; }},
  };
  return columns;
}

std::string trial_file_name(const TrialResult& r) {
  return "trial-" + std::to_string(r.index) + "-" + std::string(to_string(r.mode)) + "-p" +
         std::to_string(r.point) + "-r" + std::to_string(r.repetition + 1) + ".har";
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write " + path + ": " + reason);
  }
}

std::string results_csv(const Scenario& s, const ExperimentPlan& plan,
                        const std::vector<TrialResult>& results) {
  std::ostringstream out;
  out << "scenario,trial,mode,point";
  for (const auto& path : plan.sweep_paths) out << ',' << csv_field(path);
  out << ",repetition,seed,error";
  for (const auto& d : trial_metric_descriptors()) out << ',' << d.name;
  for (const auto& p : predicted_columns()) out << ',' << p.name;
  out << '\n';
  for (const TrialResult& r : results) {
    out << csv_field(s.name) << ',' << r.index << ',' << to_string(r.mode) << ',' << r.point;
    for (const auto& v : r.sweep_values) out << ',' << csv_field(value_text(v));
    out << ',' << r.repetition + 1 << ',' << r.seed << ',' << csv_field(r.error);
    for (const auto& d : trial_metric_descriptors()) out << ',' << number(d.get(r.metrics));
    for (const auto& p : predicted_columns()) out << ',' << number(p.get(r));
    out << '\n';
  }
  return out.str();
}

std::vector<SummaryRow> summarize(const std::vector<TrialResult>& results) {
  std::map<std::pair<std::uint32_t, Mode>, std::vector<const TrialResult*>> groups;
  for (const TrialResult& r : results)
    if (r.error.empty()) groups[{r.point, r.mode}].push_back(&r);
  std::vector<SummaryRow> rows;
  for (const auto& [key, trials] : groups) {
    auto add = [&](std::string_view name, auto get) {
      std::vector<double> values;
      for (const TrialResult* t : trials)
        if (double v = get(*t); v >= 0) values.push_back(v);
      rows.push_back({key.second, key.first, trials.front()->sweep_values, std::string(name),
                      aggregate(values)});
    };
    for (const auto& d : trial_metric_descriptors())
      add(d.name, [&](const TrialResult& t) { return d.get(t.metrics); });
    for (const auto& p : predicted_columns()) add(p.name, p.get);
  }
  return rows;
}

std::string summary_csv(const Scenario& s, const ExperimentPlan& plan,
                        const std::vector<TrialResult>& results) {
  std::ostringstream out;
  out << "scenario,mode,point";
  for (const auto& path : plan.sweep_paths) out << ',' << csv_field(path);
  out << ",metric,n,mean,median,min,max,sd,ci95_low,ci95_high\n";
  for (const SummaryRow& row : summarize(results)) {
    out << csv_field(s.name) << ',' << to_string(row.mode) << ',' << row.point;
    for (const auto& v : row.sweep_values) out << ',' << csv_field(value_text(v));
    const Aggregate& a = row.value;
    out << ',' << row.metric << ',' << a.n << ',' << number(a.mean) << ',' << number(a.median)
        << ',' << number(a.min) << ',' << number(a.max) << ',' << number(a.sd) << ','
        << number(a.ci95_low) << ',' << number(a.ci95_high) << '\n';
  }
  return out.str();
}

std::string requests_csv(const std::vector<TrialResult>& results) {
  std::ostringstream out;
  out << "trial,mode,point,repetition,request,user,resource_index,url,connection,reused,status,"
         "body_bytes,checksum_ok,error,blocked_ms,connect_ms,ssl_ms,send_ms,wait_ms,receive_ms,"
         "time_ms\n";
  for (const TrialResult& r : results) {
    std::map<std::uint64_t, std::string> urls;
    for (const auto& t : r.targets) urls[t.id] = t.target;
    for (const RequestMetrics& q : r.requests) {
      out << r.index << ',' << to_string(r.mode) << ',' << r.point << ',' << r.repetition + 1
          << ',' << q.request << ',' << q.user << ',' << q.resource_index << ','
          << csv_field(urls[q.request]) << ',' << q.connection << ',' << (q.reused ? 1 : 0) << ','
          << q.status << ',' << q.body_bytes << ',' << (q.checksum_ok ? 1 : 0) << ','
          << to_string(q.error) << ',' << number(q.blocked_ms) << ',' << number(q.connect_ms)
          << ',' << number(q.ssl_ms) << ',' << number(q.send_ms) << ',' << number(q.wait_ms)
          << ',' << number(q.receive_ms) << ',' << number(q.time_ms()) << '\n';
    }
  }
  return out.str();
}

nlohmann::json results_json(const Scenario& s, const ExperimentPlan& plan,
                            const std::vector<TrialResult>& results) {
  nlohmann::json out;
  out["satlink"] = {{"version", kVersion}, {"format", 1}};
  out["scenario"] = s.source;
  out["plan"] = {{"sweep_paths", plan.sweep_paths},
                 {"points", plan.points},
                 {"trials", plan.trials.size()},
                 {"modes", nlohmann::json::array()}};
  for (Mode m : s.experiment.modes) out["plan"]["modes"].push_back(std::string(to_string(m)));
  auto& list = out["results"] = nlohmann::json::array();
  for (const TrialResult& r : results) {
    nlohmann::json t = {{"trial", r.index},           {"mode", std::string(to_string(r.mode))},
                        {"point", r.point},           {"sweep_values", r.sweep_values},
                        {"repetition", r.repetition + 1}, {"seed", r.seed},
                        {"label", r.label},           {"error", r.error}};
    for (const auto& d : trial_metric_descriptors()) t["metrics"][std::string(d.name)] = d.get(r.metrics);
    for (const auto& p : predicted_columns()) t["predicted"][std::string(p.name)] = p.get(r);
    list.push_back(std::move(t));
  }
  return out;
}

nlohmann::json trial_har(const Scenario& s, const TrialResult& r) {
  HarPage page;
  page.title = s.name + " — " + r.label;
  page.url_base = "http://127.0.0.1";
  page.loads = r.loads;
  page.wall_offset_ns = r.wall_offset_ns;
  page.creator_version = kVersion;
  const std::string html = page_html(s.page);
  page.paths.push_back(s.page.path);
  page.types.push_back("text/html");
  for (const std::string& url : html_resource_urls(html)) {
    page.paths.push_back(url);
    std::string type = "x-unknown";
    for (const Resource& res : s.page.resources)
      if (res.path == url) type = res.content_type;
    page.types.push_back(type);
  }
  return har_document(r.requests, page);
}

std::vector<std::string> write_results(const std::string& dir, const Scenario& s,
                                       const ExperimentPlan& plan,
                                       const std::vector<TrialResult>& results,
                                       const OutputOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create " + dir + ": " + ec.message());
  std::vector<std::string> written;
  auto write = [&](const std::string& name, const std::string& content) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    write_file_atomically(path, content);
    written.push_back(path);
  };
  if (options.csv) {
    write("results.csv", results_csv(s, plan, results));
    write("summary.csv", summary_csv(s, plan, results));
    write("requests.csv", requests_csv(results));
  }
  if (options.json) write("results.json", results_json(s, plan, results).dump(2) + "\n");
  if (options.har) {
    std::filesystem::create_directories(std::filesystem::path(dir) / "har", ec);
    for (const TrialResult& r : results)
      write("har/" + trial_file_name(r), trial_har(s, r).dump(1) + "\n");
  }
  if (options.events) {
    std::string lines;
    for (const TrialResult& r : results) {
      for (const LogEvent& e : r.events) {
        lines += nlohmann::json{{"trial", r.index},
                                {"t_ns", e.t_ns},
                                {"component", std::string(to_string(e.component))},
                                {"kind", std::string(kind_name(e))},
                                {"dir", e.dir},
                                {"conn", e.conn},
                                {"request", e.request},
                                {"a", e.a},
                                {"b", e.b},
                                {"c", e.c}}
                     .dump() +
                 "\n";
      }
    }
    write("events.jsonl", lines);
  }
  return written;
}

}  // namespace satlink::simulator
