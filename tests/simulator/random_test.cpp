// Seeded distributions: the same seed gives the same samples; shapes and bounds as documented.
#include "satlink/simulator/random.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace satlink::simulator {
namespace {

TEST(Random, SameSeedSameSequence) {
  Rng a(123), b(123), c(124);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    differs |= x != c.next();
  }
  EXPECT_TRUE(differs);
}

TEST(Random, KnownFirstValueKeepsRunsReproducibleAcrossBuilds) {
  // Pinned: changing the generator would silently change every seeded experiment.
  Rng r(1);
  EXPECT_EQ(r.next(), 0xb3f2af6d0fc710c5ULL);
}

struct Moments {
  double mean = 0, sd = 0, lo = 1e300, hi = -1e300;
};

Moments sample(const Jitter& j, int n = 200'000) {
  Rng rng(99);
  double sum = 0, sum2 = 0;
  Moments m;
  for (int i = 0; i < n; ++i) {
    const double x = sample_ms(j, rng);
    sum += x;
    sum2 += x * x;
    m.lo = std::min(m.lo, x);
    m.hi = std::max(m.hi, x);
  }
  m.mean = sum / n;
  m.sd = std::sqrt(sum2 / n - m.mean * m.mean);
  return m;
}

TEST(Random, UniformJitter) {
  const auto m = sample({JitterDistribution::uniform, 10});
  EXPECT_GE(m.lo, -10);
  EXPECT_LT(m.hi, 10);
  EXPECT_NEAR(m.mean, 0, 0.1);
  EXPECT_NEAR(m.sd, 10 / std::sqrt(3.0), 0.1);
}

TEST(Random, NormalJitter) {
  const auto m = sample({JitterDistribution::normal, 5});
  EXPECT_NEAR(m.mean, 0, 0.05);
  EXPECT_NEAR(m.sd, 5, 0.1);
  EXPECT_GE(m.lo, -20);
  EXPECT_LE(m.hi, 20);
}

TEST(Random, ParetoJitterIsPositiveWithItsMeanAndAHeavyTail) {
  const auto m = sample({JitterDistribution::pareto, 10, 3.0}, 1'000'000);
  EXPECT_GE(m.lo, 0);
  EXPECT_NEAR(m.mean, 10, 0.5);
  EXPECT_GT(m.hi, 100);  // heavy tail: rare long stalls
}

TEST(Random, ZeroJitterIsNone) {
  Rng rng(1);
  EXPECT_EQ(sample_ms({JitterDistribution::normal, 0}, rng), 0);
}

TEST(Random, DistributionNamesRoundTrip) {
  for (auto d : {JitterDistribution::uniform, JitterDistribution::normal,
                 JitterDistribution::pareto}) {
    JitterDistribution out{};
    EXPECT_TRUE(parse(to_string(d), out));
    EXPECT_EQ(out, d);
  }
  JitterDistribution out{};
  EXPECT_FALSE(parse("gauss", out));
}

}  // namespace
}  // namespace satlink::simulator
