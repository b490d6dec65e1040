// Seeded, portable randomness: the same seed gives the same samples on every platform (the
// standard library's distributions differ between implementations, so samples are drawn here).
#pragma once

#include <cstdint>
#include <string_view>

namespace satlink::simulator {

// xoshiro256** seeded through splitmix64.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 1);
  std::uint64_t next();
  double uniform01();  // [0, 1)
  double normal();     // mean 0, standard deviation 1 (Box-Muller)

 private:
  std::uint64_t s_[4];
};

// A random addition to a time, in ms.
//  uniform: U(-ms, +ms)
//  normal:  N(0, ms), cut at +-4 standard deviations
//  pareto:  Pareto type II (Lomax), >= 0, mean ms, heavy tail with `pareto_shape` (> 1; 3 by
//           default): rare long stalls, as on wireless and satellite links.
enum class JitterDistribution : std::uint8_t { uniform, normal, pareto };

struct Jitter {
  JitterDistribution distribution = JitterDistribution::uniform;
  double ms = 0;  // 0 = none
  double pareto_shape = 3.0;
  bool operator==(const Jitter&) const = default;
};

double sample_ms(const Jitter& j, Rng& rng);
std::string_view to_string(JitterDistribution d);
bool parse(std::string_view s, JitterDistribution& out);

}  // namespace satlink::simulator
