#pragma once
// Inverted dropout kernels. The keep decision for element i is philox_uniform(seed, first + i) >= p (the float
// uniform compared in double), so it depends only on (seed, first, i): any backend reproduces the same mask.
#include <cstdint>

namespace kiln::kernels::cpu {

// mask[i] = 1 where element i is kept; y[i] = x[i] / (1 - p) where kept, else 0. p in [0, 1).
template <class T>
void dropout_forward(const T* x, T* y, std::uint8_t* mask, std::int64_t n, std::uint64_t seed, std::uint64_t first,
                     double p);

// dx[i] = dy[i] / (1 - p) where mask[i], else 0.
template <class T>
void dropout_backward(const T* dy, const std::uint8_t* mask, T* dx, std::int64_t n, double p);

}  // namespace kiln::kernels::cpu

// CUDA versions (float32, device pointers; mask holds n bytes on the device), in dropout.cu. Each element draws its
// own counter, so the mask is bit-identical to the CPU's whatever the launch shape.
namespace kiln::kernels::cuda {

void dropout_forward(const float* x, float* y, std::uint8_t* mask, std::int64_t n, std::uint64_t seed,
                     std::uint64_t first, double p);

void dropout_backward(const float* dy, const std::uint8_t* mask, float* dx, std::int64_t n, double p);

}  // namespace kiln::kernels::cuda
