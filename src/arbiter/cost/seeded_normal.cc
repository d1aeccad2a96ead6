#include "arbiter/cost/seeded_normal.h"

#include <cmath>

namespace arbiter::cost {

uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t HashText(std::string_view s, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return Mix64(h);
}

double SeededNormal(uint64_t seed, std::string_view a, std::string_view b, uint64_t index) {
  uint64_t h = Mix64(HashText(b, HashText(a, seed)) ^ Mix64(index));
  uint64_t g = Mix64(h);
  // 53-bit uniforms in (0, 1]: never log(0).
  double u1 = (static_cast<double>(h >> 11) + 1) * 0x1.0p-53;
  double u2 = static_cast<double>(g >> 11) * 0x1.0p-53;
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace arbiter::cost
