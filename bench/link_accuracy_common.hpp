// bench/link-accuracy: what its three files share. link_accuracy.cpp runs the phases and prints
// the report, link_accuracy_harness.cpp runs one phase through a link and measures it (CPU,
// statistics, event CSV), link_accuracy_peers.cpp holds the servers and clients on the peer thread.
// Private to satlink-bench-link.
#pragma once

#include <sys/resource.h>
#include <time.h>

#include <boost/asio.hpp>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <vector>

#include "satlink/simulator/event_log.hpp"
#include "satlink/simulator/link.hpp"

namespace satlink::link_bench {

namespace asio = boost::asio;
namespace sim = satlink::simulator;
using asio::awaitable;
using asio::ip::tcp;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);

constexpr double kOneWayMs = 300;
constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kMessagePeriodNs = 100 * kMs;
constexpr std::size_t kMessageBytes = 32;
constexpr double kRateBps = 25e6;
constexpr double kRateSkipS = 2;  // the goodput window starts this long after the first read
constexpr double kDelayTargetMs = 1.0;
constexpr double kRateTargetPct = 2.0;
constexpr double kOtherCpuMaxPct = 10;   // above this, a phase was disturbed (see --retries)
constexpr rlim_t kFdsPerConnection = 4;  // client, link (both sides), target
constexpr rlim_t kFdsSpare = 64;

struct Options {
  double duration_s = 10;
  std::vector<int> delay_connections{1, 100, 1000};
  std::vector<int> rate_connections{1, 6};
  std::string events_dir;  // --events: raw deliveries as CSV
  int retries = 1;         // re-runs of a phase disturbed by other processes
};

// ---- CPU and statistics (link_accuracy_harness.cpp) --------------------------------------------

// CPU times at one moment: the link's thread, the peers' thread, the whole machine (busy ticks of
// all cores from /proc/stat) and this process.
struct CpuMark {
  std::int64_t t_ns = 0;
  double link_s = 0, peer_s = 0, machine_s = 0, self_s = 0;
};

// Shares over an interval: link and peers in % of one core; other processes in % of all cores.
struct CpuUse {
  double wall_s = 0, link_pct = 0, peer_pct = 0, other_pct = 0;
};

CpuUse cpu_between(const CpuMark& a, const CpuMark& b);

struct Summary {
  std::size_t n = 0;
  double p50 = 0, p99 = 0, max = 0;
};

Summary summarize(std::vector<double> v);
// The delivered delay error (write time minus planned release, ms) of each chunk_out event.
Summary summarize_errors(const std::vector<sim::LogEvent>& chunks);
// --events DIR: one CSV per phase, for a reader who wants to see where the error is.
void write_events(const std::string& dir, const std::string& name,
                  const std::vector<sim::LogEvent>& chunks);

// ---- the state shared by the three threads ----------------------------------------------------

struct Env {
  // Each phase's link logs here. A link's state may outlive its Link object by a few handlers,
  // so the logs are declared first: they go last, after the io_contexts.
  std::list<sim::EventLog> logs;
  asio::io_context link_ioc{1};
  asio::io_context peer_ioc{1};
  std::optional<tcp::acceptor> echo, source;
  std::uint16_t echo_port = 0, source_port = 0;
  std::uint64_t echo_accepted = 0, source_accepted = 0;  // peer thread only
  clockid_t link_clock{}, peer_clock{};
  bool disturbed = false;  // a printed row had other CPU above kOtherCpuMaxPct

  CpuMark mark() const;  // link_accuracy_harness.cpp
};

struct Measured {
  std::string error;  // non-empty: set-up failed
  CpuUse cpu;         // over the measured interval
  // delay phase
  std::uint64_t sent = 0, received = 0;
  std::vector<double> echo_error_ms;
  // rate phase: bytes per connection over the steady window
  std::vector<std::uint64_t> window_bytes;
};

// ---- the peers (link_accuracy_peers.cpp) ------------------------------------------------------

// Opens the echo and source servers on the peer io_context and starts accepting.
void open_servers(Env& env);

// The clients of a phase, run on the peer thread: `count` connections to the link at `port`.
using Phase = awaitable<Measured> (*)(Env*, std::uint16_t, int, double);
awaitable<Measured> delay_clients(Env* env, std::uint16_t port, int count, double duration_s);
awaitable<Measured> rate_clients(Env* env, std::uint16_t port, int count, double duration_s);

// ---- phases (link_accuracy_harness.cpp) -------------------------------------------------------

sim::LinkConfig delay_config();
sim::LinkConfig rate_config();

// Runs one phase through a fresh link, again (up to --retries times) while other processes used
// more than kOtherCpuMaxPct of the CPUs during it; fills `chunks` with the link's deliveries.
// Throws std::runtime_error on a set-up failure.
Measured run_phase_retrying(Env& env, const Options& o, const char* name,
                            const sim::LinkConfig& config, std::uint16_t target_port, Phase phase,
                            int count, std::vector<sim::LogEvent>& chunks);

}  // namespace satlink::link_bench
