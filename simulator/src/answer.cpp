// The answer's reasoning: which modes to compare, when a difference is real (the 95 %
// intervals), what to warn about. Units and wrapping are in answer_text.cpp.
#include "satlink/simulator/answer.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string_view>

#include "satlink/simulator/results_io.hpp"

namespace satlink::simulator {

namespace {

std::string mode_name(Mode m) {
  return std::string(to_string(m));
}

using Metrics = std::map<std::string, Aggregate, std::less<>>;
using Stats = std::map<Mode, Metrics>;

Stats stats_at(const std::vector<TrialResult>& results, std::uint32_t point) {
  Stats s;
  for (const SummaryRow& row : summarize(results))
    if (row.point == point) s[row.mode][row.metric] = row.value;
  return s;
}

const Aggregate* metric(const Stats& s, Mode m, std::string_view name) {
  const auto mode = s.find(m);
  if (mode == s.end()) return nullptr;
  const auto it = mode->second.find(name);
  return it == mode->second.end() || it->second.n == 0 ? nullptr : &it->second;
}

struct Pair {
  Mode with, without;  // the feature on, the feature off
};
std::string label(Pair p) {
  return mode_name(p.with) + " vs " + mode_name(p.without);
}

struct Diff {
  Aggregate with, without;
  double delta() const { return with.mean - without.mean; }
  double percent() const { return without.mean != 0 ? 100 * delta() / without.mean : 0; }
  // Two or more repetitions on each side give intervals; with fewer the difference stands as
  // measured (and a caveat says so).
  bool within_noise() const {
    return with.n >= 2 && without.n >= 2 && with.ci95_low <= without.ci95_high &&
           without.ci95_low <= with.ci95_high;
  }
};

std::optional<Diff> diff(const Stats& s, Pair p, std::string_view name) {
  const Aggregate* a = metric(s, p.with, name);
  const Aggregate* b = metric(s, p.without, name);
  if (!a || !b) return std::nullopt;
  return Diff{*a, *b};
}

// The pairs of `candidates` whose page loads were measured on both sides, in the given order.
std::vector<std::pair<Pair, Diff>> available(const Stats& s, std::vector<Pair> candidates,
                                             std::string_view name = "page_load_ms") {
  std::vector<std::pair<Pair, Diff>> out;
  for (Pair p : candidates)
    if (auto d = diff(s, p, name)) out.emplace_back(p, *d);
  return out;
}

// Two values that print alike get more decimals, so a measured difference is visible in them.
std::pair<std::string, std::string> distinct_durations(double a, double b) {
  for (int extra = 0; a != b; ++extra) {
    auto x = format_duration(a, extra), y = format_duration(b, extra);
    if (x != y || extra == 2) return {x, y};
  }
  return {format_duration(a), format_duration(b)};
}

struct Finding {
  bool measured = false;  // a difference beyond the noise: goes first
  std::string text;
};

std::string short_verdict(const Diff& d) {
  if (d.delta() == 0) return "no difference";
  return d.within_noise() ? "within the noise" : format_percent(d.percent());
}

// "Client keep-alive cut page load by 2.41 s, from 7.27 s to 4.86 s (keep-alive vs client-close:
// −33 %; server-close vs close: −33 %)." The first pair is the main one; a second is noted.
Finding load_finding(const std::string& subject, const std::vector<std::pair<Pair, Diff>>& pairs) {
  const auto& [pair, d] = pairs.front();
  const auto [a, b] = distinct_durations(d.with.mean, d.without.mean);
  Finding f;
  std::string verdict, numbers;
  if (d.delta() == 0) {
    verdict = "made no difference to page load";
    numbers = a + " either way";
  } else if (d.within_noise()) {
    verdict = "made no measurable difference to page load, within the noise";
    numbers = a + " vs " + b + ", the 95 % intervals overlap";
  } else {
    f.measured = true;
    verdict = (d.delta() < 0 ? "cut page load by " : "made page load slower by ") +
              format_duration(std::abs(d.delta())) + ", from " + b + " to " + a;
    numbers = format_percent(d.percent());
  }
  std::string details = label(pair) + ": " + numbers;
  for (std::size_t i = 1; i < pairs.size(); ++i)
    details += "; " + label(pairs[i].first) + ": " + short_verdict(pairs[i].second);
  f.text = subject + " " + verdict + " (" + details + ").";
  return f;
}

struct OriginClause {
  std::string_view metric, verb, noun;
  std::string (*format)(double);
};

// What server keep-alive costs the origin: connections, occupancy, idle time, memory.
Finding origin_finding(const Stats& s, Pair pair) {
  static const OriginClause clauses[] = {
      {"origin_connections", "opened", "connections", format_number},
      {"origin_peak_connections", "had at most", "open at once", format_number},
      {"origin_mean_connections", "had", "open on average", format_number},
      {"origin_idle_connection_seconds", "held", "idle connection-seconds", format_number},
      {"origin_peak_memory_bytes", "peaked at", "of connection memory", format_bytes},
  };
  Finding f;
  std::vector<std::string> parts;
  for (const OriginClause& c : clauses) {
    const auto d = diff(s, pair, c.metric);
    if (!d) continue;
    const std::string a = c.format(d->with.mean), b = c.format(d->without.mean);
    const std::string head = std::string(c.verb) + " " + a;
    std::string noun(c.noun);
    if (a == "1" && noun.back() == 's') noun.pop_back();  // "1 connection"
    if (a == b) {
      parts.push_back(head + " " + noun + " either way");
    } else if (d->within_noise()) {
      parts.push_back(head + " vs " + b + " " + std::string(c.noun) + " (within the noise)");
    } else {
      f.measured = true;
      parts.push_back(head + " " + noun + " instead of " + b);
    }
  }
  if (parts.empty()) return f;
  std::string list;
  for (std::size_t i = 0; i < parts.size(); ++i)
    list += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
  f.text = "Server keep-alive, at the origin (" + label(pair) + "), " + list + ".";
  return f;
}

// "Client keep-alive (keep-alive vs client-close): the tcp model predicts 4.85 s vs 7.26 s
// (−33 %), the seed model 5.45 s vs 9.06 s (−40 %)."
std::string predicted_sentence(const std::string& subject, const Stats& s, Pair pair,
                               bool origin_connections) {
  std::vector<std::string> parts;
  for (std::string_view model : {"tcp", "seed"}) {
    const auto d = diff(s, pair, "predicted_" + std::string(model) + "_page_load_ms");
    if (!d || d->with.mean <= 0 || d->without.mean <= 0) continue;  // 0: not predicted
    const auto [a, b] = distinct_durations(d->with.mean, d->without.mean);
    std::string part =
        "the " + std::string(model) + " model" + (parts.empty() ? " predicts " : " ");
    part += d->delta() == 0 ? a + " either way"
                            : a + " vs " + b + " (" + format_percent(d->percent()) + ")";
    const auto c = diff(s, pair, "predicted_tcp_server_connections");
    if (model == "tcp" && origin_connections && c && c->delta() != 0) {
      const std::string n = format_number(c->with.mean);
      part += " and " + n + (n == "1" ? " origin connection" : " origin connections") +
              " instead of " + format_number(c->without.mean);
    }
    parts.push_back(part);
  }
  if (parts.empty()) return "";
  std::string text = subject + " (" + label(pair) + "): " + parts.front();
  for (std::size_t i = 1; i < parts.size(); ++i) text += ", " + parts[i];
  return text + ".";
}


// Failed, missing and partly failed trials at the point, and modes without an interval.
void trial_caveats(const ExperimentPlan& plan, const std::vector<TrialResult>& results,
                   std::uint32_t point, const Stats& s, std::vector<std::string>& caveats) {
  std::size_t planned = 0, ran = 0, failed = 0, partial = 0;
  std::map<Mode, std::size_t> failed_by_mode;
  for (const Trial& t : plan.trials) planned += t.point == point ? 1 : 0;
  for (const TrialResult& r : results) {
    if (r.point != point) continue;
    ++ran;
    if (!r.error.empty())
      ++failed, ++failed_by_mode[r.mode];
    else if (r.metrics.users_failed > 0)
      ++partial;
  }
  if (failed > 0) {
    std::string modes;
    for (const auto& [m, n] : failed_by_mode)
      modes += (modes.empty() ? "" : ", ") + mode_name(m) + " " + std::to_string(n);
    caveats.push_back(std::to_string(failed) + " of " + std::to_string(ran) +
                      " trials here failed and are left out (" + modes + "; see results.csv).");
  }
  if (planned > ran)
    caveats.push_back(std::to_string(planned - ran) + " of " + std::to_string(planned) +
                      " planned trials here did not run (cancelled or not selected).");
  if (partial > 0)
    caveats.push_back(
        "In " + std::to_string(partial) +
        " trial(s) some users' pages failed to load; page-load means leave them out.");
  std::string single;
  for (const auto& [m, metrics] : s) {
    const Aggregate* load = metric(s, m, "page_load_ms");
    if (load && load->n < 2) single += (single.empty() ? "" : ", ") + mode_name(m);
  }
  if (!single.empty())
    caveats.push_back("Only one page load of " + single +
                      " here: no 95 % interval, so differences are reported as measured, not "
                      "judged against the noise.");
}

// Nothing to compare: say what was measured.
std::string loads_sentence(const Stats& s) {
  std::vector<std::pair<Mode, double>> loads;
  for (Mode m : all_modes())
    if (const Aggregate* load = metric(s, m, "page_load_ms")) loads.emplace_back(m, load->mean);
  if (loads.empty()) return "No page loaded here, so there is nothing to compare.";
  if (loads.size() == 1)
    return "Only " + mode_name(loads[0].first) + " ran here: page load " +
           format_duration(loads[0].second) + ".";
  std::string list;
  for (const auto& [m, ms] : loads)
    list += (list.empty() ? "" : ", ") + mode_name(m) + " " + format_duration(ms);
  return "Page load per mode: " + list + ".";
}

std::string lower_first(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

}  // namespace

Answer answer(const ExperimentPlan& plan, const std::vector<TrialResult>& results,
              std::uint32_t point) {
  Answer out;
  out.point = point_label(plan, point);
  const Stats s = stats_at(results, point);
  std::vector<Finding> findings;
  std::vector<std::string> not_compared;
  auto add_predicted = [&](const std::string& subject, Pair p, bool connections) {
    if (auto text = predicted_sentence(subject, s, p, connections); !text.empty())
      out.predicted.push_back(std::move(text));
  };

  const auto client =
      available(s, {{Mode::keep_alive, Mode::client_close}, {Mode::server_close, Mode::close}});
  const auto server =
      available(s, {{Mode::keep_alive, Mode::server_close}, {Mode::client_close, Mode::close}});
  if (!client.empty()) {
    findings.push_back(load_finding("Client keep-alive", client));
    add_predicted("Client keep-alive", client.front().first, false);
  }
  if (!server.empty()) {
    findings.push_back(load_finding("Server keep-alive", server));
    if (Finding f = origin_finding(s, server.front().first); !f.text.empty()) findings.push_back(f);
    add_predicted("Server keep-alive", server.front().first, true);
  }
  const auto both = available(s, {{Mode::keep_alive, Mode::close}});
  if (client.empty() && server.empty() && !both.empty()) {
    findings.push_back(load_finding("Keep-alive on both sides", both));
    add_predicted("Keep-alive on both sides", both.front().first, true);
    out.caveats.push_back(
        "Client and server keep-alive are not told apart: that needs client-close or "
        "server-close beside keep-alive and close.");
  } else {
    if (client.empty())
      not_compared.push_back(
          "client keep-alive (needs keep-alive and client-close, or server-close and close)");
    if (server.empty())
      not_compared.push_back(
          "server keep-alive (needs keep-alive and server-close, or client-close and close)");
  }
  if (const auto proxy = available(s, {{Mode::keep_alive, Mode::no_proxy}}); !proxy.empty()) {
    findings.push_back(load_finding("Going through the proxy", proxy));
    add_predicted("The proxy", proxy.front().first, false);
    double server_rtt = 0;
    for (const Trial& t : plan.trials)
      if (t.point == point) server_rtt = t.scenario.server_link.config.rtt_ms();
    if (server_rtt >= 1)
      out.caveats.push_back(
          "The no-proxy baseline undercounts each connection's set-up by about the "
          "server link's RTT (" +
          format_duration(server_rtt) +
          " here), which flatters it against the proxy (docs/scenarios.md).");
  } else {
    not_compared.push_back("the proxy against no proxy (needs keep-alive and no-proxy)");
  }

  if (findings.empty()) findings.push_back({false, loads_sentence(s)});
  std::stable_partition(findings.begin(), findings.end(),
                        [](const Finding& f) { return f.measured; });
  for (const Finding& f : findings) out.findings.push_back(f.text);
  if (!out.point.empty())
    out.findings.front() = "At " + out.point + ", " + lower_first(out.findings.front());

  trial_caveats(plan, results, point, s, out.caveats);
  if (!not_compared.empty()) {
    std::string list;
    for (const auto& n : not_compared) list += (list.empty() ? "" : "; ") + n;
    out.caveats.push_back(
        "Not compared (no successful trials of the modes it needs here): " + list + ".");
  }
  return out;
}

}  // namespace satlink::simulator
