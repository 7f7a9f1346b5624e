#pragma once
// Philox4x32-10 counter-based random numbers (Salmon et al., SC'11), usable from host and device code.
// One call maps (seed, counter) to four independent 32-bit values; kiln uses one counter per element.
#include <cmath>
#include <cstdint>

#include "kernels/host_device.h"

namespace kiln::kernels {

struct Philox4 {
  std::uint32_t v[4];
};

KILN_HOST_DEVICE inline Philox4 philox4x32(std::uint64_t seed, std::uint64_t counter) {
  std::uint32_t c0 = static_cast<std::uint32_t>(counter), c1 = static_cast<std::uint32_t>(counter >> 32);
  std::uint32_t c2 = 0, c3 = 0;
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(0xD2511F53u) * c0;
    const std::uint64_t p1 = static_cast<std::uint64_t>(0xCD9E8D57u) * c2;
    const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const std::uint32_t n1 = static_cast<std::uint32_t>(p1);
    const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3 ^ k1;
    const std::uint32_t n3 = static_cast<std::uint32_t>(p0);
    c0 = n0, c1 = n1, c2 = n2, c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in [0, 1) with 24 random bits, exactly representable in float.
KILN_HOST_DEVICE inline float philox_uniform(std::uint64_t seed, std::uint64_t counter) {
  return static_cast<float>(philox4x32(seed, counter).v[0] >> 8) * (1.0f / 16777216.0f);
}

// Uniform in [0, 1) with 53 random bits.
KILN_HOST_DEVICE inline double philox_uniform_f64(std::uint64_t seed, std::uint64_t counter) {
  const Philox4 r = philox4x32(seed, counter);
  const std::uint64_t bits = (static_cast<std::uint64_t>(r.v[0]) << 21) ^ (r.v[1] >> 11);
  return static_cast<double>(bits & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// Standard normal by Box-Muller from one counter's four words (53-bit uniforms, u1 kept away from 0).
KILN_HOST_DEVICE inline double philox_normal(std::uint64_t seed, std::uint64_t counter) {
  const Philox4 r = philox4x32(seed, counter);
  const double scale = 1.0 / 9007199254740992.0;
  const std::uint64_t a = ((static_cast<std::uint64_t>(r.v[0]) << 21) ^ (r.v[1] >> 11)) & ((1ull << 53) - 1);
  const std::uint64_t b = ((static_cast<std::uint64_t>(r.v[2]) << 21) ^ (r.v[3] >> 11)) & ((1ull << 53) - 1);
  const double u1 = (static_cast<double>(a) + 0.5) * scale;
  const double u2 = static_cast<double>(b) * scale;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

}  // namespace kiln::kernels
