#pragma once
// Concatenation along dim 1: each part is viewed as [outer, inner_i] (outer = N, inner_i = C_i * the trailing sizes),
// the result as [outer, sum of inner_i].
#include <cstdint>
#include <span>

namespace kiln::kernels::cpu {

// out row r = part 0 row r, then part 1 row r, ...
template <class T>
void concat_forward(std::span<const T* const> parts, std::span<const std::int64_t> inner_sizes, T* out,
                    std::int64_t outer);
// The inverse split: each part receives its columns of dout; a null part (no gradient wanted) is skipped.
template <class T>
void concat_backward(const T* dout, std::span<T* const> parts, std::span<const std::int64_t> inner_sizes,
                     std::int64_t outer);

}  // namespace kiln::kernels::cpu

// CUDA versions (float32, device pointers; the spans themselves live on the host), in concat.cu.
namespace kiln::kernels::cuda {

void concat_forward(std::span<const float* const> parts, std::span<const std::int64_t> inner_sizes, float* out,
                    std::int64_t outer);
void concat_backward(const float* dout, std::span<float* const> parts, std::span<const std::int64_t> inner_sizes,
                     std::int64_t outer);

}  // namespace kiln::kernels::cuda
