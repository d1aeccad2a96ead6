// Standard normal draws that are a pure function of (seed, key, index):
// posterior sampling needs randomness, but `plan` must show the draw the
// next `materialize` will make, and a simulation must replay exactly. No
// generator state to carry between commands.
#pragma once

#include <cstdint>
#include <string_view>

namespace arbiter::cost {

// splitmix64 finalizer: a well-mixed 64-bit hash step.
uint64_t Mix64(uint64_t x);
// FNV-1a of text, then mixed.
uint64_t HashText(std::string_view s, uint64_t seed);
// N(0, 1) from Box–Muller on two uniforms derived from the arguments.
double SeededNormal(uint64_t seed, std::string_view a, std::string_view b, uint64_t index);

}  // namespace arbiter::cost
