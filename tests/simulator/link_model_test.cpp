// The link's timing model on made-up times: no sockets, no clock, exact answers.
#include "link_model.hpp"

#include <gtest/gtest.h>

namespace satlink::simulator {
namespace {

constexpr std::int64_t kMs = 1'000'000;

DirectionParams params(double delay_ms, double rtt_ms = 0) {
  LinkConfig c;
  c.up.delay_ms = delay_ms;
  c.down.delay_ms = rtt_ms > 0 ? rtt_ms - delay_ms : delay_ms;
  return direction_params(c, true, 0);
}

TEST(LinkModel, DelayIsAddedToArrival) {
  Bottleneck b;
  Flow f(1);
  const Plan plan = plan_chunk(5 * kMs, 1000, params(100), b, f);
  ASSERT_EQ(plan.pieces.size(), 1u);
  EXPECT_EQ(plan.pieces[0].bytes, 1000u);
  EXPECT_EQ(plan.pieces[0].release_ns, 105 * kMs);
}

TEST(LinkModel, FractionalDelay) {
  Bottleneck b;
  Flow f(1);
  EXPECT_EQ(plan_chunk(0, 10, params(0.25), b, f).pieces[0].release_ns, 250'000);
}

TEST(LinkModel, JitterStaysWithinItsBoundsAndNeverReorders) {
  auto p = params(100);
  p.jitter = {JitterDistribution::uniform, 20};
  Bottleneck b;
  Flow f(7);
  std::int64_t previous = 0;
  int moved_back = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::int64_t arrival = i * kMs / 2;  // faster than the jitter: reordering would happen
    const auto plan = plan_chunk(arrival, 100, p, b, f);
    const std::int64_t r = plan.pieces[0].release_ns;
    EXPECT_GE(r, arrival + 80 * kMs);
    EXPECT_GE(r, previous);
    // a piece held back by an earlier one is released with it, never before
    if (r > arrival + 120 * kMs) ++moved_back;
    EXPECT_LE(r, arrival + 120 * kMs + 20 * kMs);
    previous = r;
  }
  EXPECT_EQ(moved_back, 0);
}

TEST(LinkModel, JitterSpreadsWhenChunksAreFarApart) {
  auto p = params(100);
  p.jitter = {JitterDistribution::uniform, 20};
  Bottleneck b;
  Flow f(3);
  std::int64_t lo = kNever, hi = 0;
  for (int i = 0; i < 500; ++i) {
    const std::int64_t arrival = i * 1000 * kMs;
    const std::int64_t d = plan_chunk(arrival, 100, p, b, f).pieces[0].release_ns - arrival;
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_GE(lo, 80 * kMs);
  EXPECT_LT(lo, 85 * kMs);
  EXPECT_LE(hi, 120 * kMs);
  EXPECT_GT(hi, 115 * kMs);
}

TEST(LinkModel, SameSeedSamePlans) {
  auto p = params(50);
  p.jitter = {JitterDistribution::pareto, 10};
  p.loss.rate = 0.05;
  Bottleneck b1, b2;
  Flow f1(42), f2(42), f3(43);
  bool differs = false;
  Bottleneck b3;
  for (int i = 0; i < 100; ++i) {
    const auto a = plan_chunk(i * 500 * kMs, 20000, p, b1, f1);
    const auto b = plan_chunk(i * 500 * kMs, 20000, p, b2, f2);
    const auto c = plan_chunk(i * 500 * kMs, 20000, p, b3, f3);
    ASSERT_EQ(a.pieces.size(), b.pieces.size());
    for (std::size_t k = 0; k < a.pieces.size(); ++k)
      EXPECT_EQ(a.pieces[k].release_ns, b.pieces[k].release_ns);
    differs |= a.pieces.back().release_ns != c.pieces.back().release_ns;
  }
  EXPECT_TRUE(differs);
}

TEST(LinkModel, RateSerializesAndIsSharedByAllFlows) {
  auto p = params(10);
  p.rate_bps = 8e6;  // one byte per microsecond
  Bottleneck shared;
  Flow a(1), b(2);
  const auto pa = plan_chunk(0, 100'000, p, shared, a);
  const auto pb = plan_chunk(0, 100'000, p, shared, b);
  // FIFO: the second flow's bytes leave after the first flow's
  EXPECT_EQ(pa.pieces.back().release_ns, 100 * kMs + 10 * kMs);
  EXPECT_EQ(pb.pieces.back().release_ns, 200 * kMs + 10 * kMs);
  // pieces of about 1 ms of the rate (1000 bytes < MSS: one MSS each), released one by one
  EXPECT_EQ(pa.pieces.front().bytes, 1460u);
  EXPECT_EQ(pa.pieces.front().release_ns, 1460 * 1000 + 10 * kMs);
  EXPECT_EQ(pb.queued_bytes, 100'000u);
}

TEST(LinkModel, QueueLimitDelaysAdmission) {
  auto p = params(0);
  p.rate_bps = 8e6;
  p.queue_bytes = 10'000;  // 10 ms at the rate
  Bottleneck b;
  Flow f(1);
  EXPECT_EQ(b.admit_at(0, p), 0);
  plan_chunk(0, 50'000, p, b, f);  // 50 ms of work queued
  EXPECT_EQ(b.admit_at(0, p), 40 * kMs);
  EXPECT_EQ(b.admit_at(45 * kMs, p), 45 * kMs);
  p.queue_bytes = 0;  // unlimited
  EXPECT_EQ(b.admit_at(0, p), 0);
}

TEST(LinkModel, LossRateMatchesOverManySegments) {
  auto p = params(50, 100);
  p.loss.rate = 0.01;
  Bottleneck b;
  Flow f(11);
  std::uint64_t lost = 0, events = 0;
  const int chunks = 100'000;
  for (int i = 0; i < chunks; ++i) {
    const auto plan = plan_chunk(i * kMs * 1000, 1460, p, b, f);  // one segment each
    for (const auto& l : plan.losses) {
      lost += l.segments;
      ++events;
      EXPECT_EQ(l.delay_ns, 100 * kMs);  // fast retransmit: one RTT
    }
  }
  EXPECT_NEAR(static_cast<double>(lost) / chunks, 0.01, 0.0015);
  EXPECT_EQ(lost, events);
}

TEST(LinkModel, LostSegmentDelaysEverythingBehindIt) {
  auto p = params(50, 100);
  p.loss.rate = 1.0;
  p.retransmit = Retransmit::rto;
  Bottleneck b;
  Flow f(1);
  const auto lost = plan_chunk(0, 1460, p, b, f);
  EXPECT_EQ(lost.pieces[0].release_ns, 50 * kMs + 200 * kMs);  // RTO = max(200 ms, 2 RTT)
  p.loss.rate = 0;
  const auto behind = plan_chunk(1 * kMs, 1460, p, b, f);
  EXPECT_EQ(behind.pieces[0].release_ns, 250 * kMs);
}

TEST(LinkModel, GilbertElliottLossesComeInBursts) {
  auto p = params(10, 20);
  p.loss.burst_enter = 0.01;
  p.loss.burst_exit = 0.25;  // mean burst 4 segments
  p.loss.burst_rate = 1.0;
  Bottleneck b;
  Flow f(5);
  std::uint64_t segments = 0, lossy_pieces = 0;
  const int pieces = 20'000;
  for (int i = 0; i < pieces; ++i) {
    const auto plan = plan_chunk(i * kMs * 1000, 14600, p, b, f);  // 10 segments
    for (const auto& l : plan.losses) {
      segments += l.segments;
      ++lossy_pieces;
      EXPECT_EQ(l.delay_ns, 20 * kMs);  // one recovery per piece
    }
  }
  // stationary loss share: enter / (enter + exit) = 0.0385
  const double share = static_cast<double>(segments) / (pieces * 10.0);
  EXPECT_NEAR(share, 0.0385, 0.008);
  // the same share lost independently would touch 1 - (1 - 0.0385)^10 = 32 % of the pieces
  EXPECT_LT(static_cast<double>(lossy_pieces) / pieces, 0.2);
}

TEST(LinkModel, SetupModels) {
  LinkConfig c;
  c.up.delay_ms = 100;
  c.down.delay_ms = 100;
  c.setup = SetupModel::tcp;
  EXPECT_EQ(setup_release_ns(0, c, 0), 200 * kMs);  // 1 RTT, then the one-way: 1.5 RTT
  EXPECT_EQ(target_connect_ns(0, c, 0), 100 * kMs);  // the SYN arrives
  c.setup = SetupModel::seed;
  EXPECT_EQ(setup_release_ns(0, c, 0), 300 * kMs);  // 3 one-way, then the request's own
  c.setup = SetupModel::none;
  EXPECT_EQ(setup_release_ns(0, c, 0), 0);
  EXPECT_EQ(target_connect_ns(0, c, 0), 0);

  c.setup = SetupModel::tcp;
  Bottleneck b;
  Flow f(1);
  f.hold_until_ns = setup_release_ns(0, c, 0);
  const auto p = direction_params(c, true, 0);
  EXPECT_EQ(plan_chunk(1 * kMs, 100, p, b, f).pieces[0].release_ns, 300 * kMs);  // 1.5 RTT
  // a second request on the same connection pays no set-up
  EXPECT_EQ(plan_chunk(1000 * kMs, 100, p, b, f).pieces[0].release_ns, 1100 * kMs);
}

int rounds_for(std::uint64_t bytes) {
  auto p = params(50, 100);
  p.slow_start.enabled = true;
  Bottleneck b;
  Flow f(1);
  const auto plan = plan_chunk(0, bytes, p, b, f);
  return static_cast<int>((plan.pieces.back().release_ns - 50 * kMs) / (100 * kMs)) + 1;
}

TEST(LinkModel, SlowStartRoundsAtIw10) {
  EXPECT_EQ(rounds_for(14'600), 1);
  EXPECT_EQ(rounds_for(100'000), 3);  // k(S) = ceil(log2(S / 14600 + 1))
  EXPECT_EQ(rounds_for(1'000'000), 7);
}

TEST(LinkModel, WarmWindowAndRestartAfterIdle) {
  auto p = params(50, 100);
  p.slow_start.enabled = true;
  Bottleneck b;
  Flow f(1);
  plan_chunk(0, 100'000, p, b, f);  // 3 rounds: cwnd grows past 100 KB
  // 150 ms after the last send (less than the RTO of 200 ms): the window is warm
  std::int64_t t = 350 * kMs;
  auto warm = plan_chunk(t, 100'000, p, b, f);
  EXPECT_EQ(warm.pieces.back().release_ns, t + 50 * kMs);
  // idle longer than the RTO: back to the initial window, 3 rounds again
  t = 1000 * kMs;
  auto cold = plan_chunk(t, 100'000, p, b, f);
  EXPECT_EQ(cold.pieces.back().release_ns, t + 50 * kMs + 200 * kMs);
  // without restart after idle the window stays warm
  p.slow_start.restart_after_idle = false;
  t = 5000 * kMs;
  EXPECT_EQ(plan_chunk(t, 100'000, p, b, f).pieces.back().release_ns, t + 50 * kMs);
}

TEST(LinkModel, SlowStartWindowStopsGrowingAtTheBandwidthDelayProduct) {
  auto p = params(50, 100);
  p.slow_start.enabled = true;
  p.rate_bps = 8e6;  // BDP = 100 KB
  Bottleneck b;
  Flow f(1);
  plan_chunk(0, 2'000'000, p, b, f);
  EXPECT_LE(f.window.cwnd, 100'000u + 2 * 14'600u);
  EXPECT_GE(f.window.cwnd, 100'000u);
}

TEST(LinkModel, ScheduleStepsAndRepeats) {
  LinkConfig c;
  c.up.delay_ms = c.down.delay_ms = 20;
  EXPECT_EQ(delay_at_ms(c, c.up, 1e6), 20);
  c.schedule.points = {{100, 50}, {200, 20}};
  EXPECT_EQ(delay_at_ms(c, c.up, 50), 20);  // before the first point: the base delay
  EXPECT_EQ(delay_at_ms(c, c.up, 150), 50);
  EXPECT_EQ(delay_at_ms(c, c.down, 250), 20);
  EXPECT_EQ(delay_at_ms(c, c.down, 1150), 20);
  c.schedule.repeat_ms = 1000;
  EXPECT_EQ(delay_at_ms(c, c.up, 1150), 50);
  EXPECT_EQ(direction_params(c, false, 2150).rtt_ns, 100 * kMs);
}

TEST(LinkModel, MarkersKeepTheirPlaceBehindData) {
  auto p = params(10);
  p.jitter = {JitterDistribution::uniform, 5};
  Bottleneck b;
  Flow f(9);
  const auto data = plan_chunk(0, 100, p, b, f);
  const std::int64_t fin = plan_marker(0, p, f);
  EXPECT_GE(fin, data.pieces.back().release_ns);
}

TEST(LinkModel, PresetsHaveTheirTableFigures) {
  const auto* geo = find_link_preset("geo");
  ASSERT_NE(geo, nullptr);
  EXPECT_EQ(geo->config.rtt_ms(), 600);
  EXPECT_EQ(geo->config.down.rate_bps, 25e6);
  EXPECT_EQ(geo->config.up.rate_bps, 3e6);
  EXPECT_EQ(find_link_preset("lan")->config.rtt_ms(), 0.5);
  EXPECT_EQ(find_link_preset("leo")->config.schedule.repeat_ms, 15000);
  EXPECT_EQ(find_link_preset("nope"), nullptr);
  EXPECT_EQ(link_presets().size(), 11u);
  for (const auto& p : link_presets()) {
    EXPECT_FALSE(p.description.empty()) << p.id;
    EXPECT_FALSE(p.source.empty()) << p.id;
  }
}

}  // namespace
}  // namespace satlink::simulator
