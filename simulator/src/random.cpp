#include "satlink/simulator/random.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace satlink::simulator {

namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(std::uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  const double u1 = 1.0 - uniform01();  // (0, 1]
  const double u2 = uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double sample_ms(const Jitter& j, Rng& rng) {
  if (j.ms <= 0) return 0;
  switch (j.distribution) {
    case JitterDistribution::uniform: return (2.0 * rng.uniform01() - 1.0) * j.ms;
    case JitterDistribution::normal: return std::clamp(rng.normal(), -4.0, 4.0) * j.ms;
    case JitterDistribution::pareto: {
      const double shape = std::max(j.pareto_shape, 1.01);
      const double scale = j.ms * (shape - 1.0);  // Lomax mean = scale / (shape - 1)
      const double u = 1.0 - rng.uniform01();     // (0, 1]
      return scale * (std::pow(u, -1.0 / shape) - 1.0);
    }
  }
  return 0;
}

std::string_view to_string(JitterDistribution d) {
  switch (d) {
    case JitterDistribution::uniform: return "uniform";
    case JitterDistribution::normal: return "normal";
    case JitterDistribution::pareto: return "pareto";
  }
  return "?";
}

bool parse(std::string_view s, JitterDistribution& out) {
  for (auto d : {JitterDistribution::uniform, JitterDistribution::normal,
                 JitterDistribution::pareto}) {
    if (s == to_string(d)) {
      out = d;
      return true;
    }
  }
  return false;
}

}  // namespace satlink::simulator
