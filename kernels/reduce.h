#pragma once
// Reductions of a contiguous array to one value.
#include <cstdint>

namespace kiln::kernels::cpu {

// Sum accumulated in double in per-thread partials, so the result does not drift with n.
template <class T> T sum(const T* x, std::int64_t n);

// out[i] = value[0] * factor for i in [0, n), the product taken in double and rounded once (a sum's gradient).
template <class T> void broadcast_scaled(const T* value, double factor, T* out, std::int64_t n);

}  // namespace kiln::kernels::cpu

namespace kiln::kernels::cuda {

// Sum of n floats into *out (device pointers). Two passes with fixed shapes, no atomics: deterministic.
// `partials` is scratch space of sum_partials floats (callers take it from the caching allocator).
constexpr std::int64_t sum_partials = 256;
void sum(const float* x, std::int64_t n, float* partials, float* out);

// broadcast_scaled with `value` read on the device, so that a backward needs no host read.
void broadcast_scaled(const float* value, double factor, float* out, std::int64_t n);

}  // namespace kiln::kernels::cuda
