#pragma once
// Permutation of a contiguous array's dimensions into a new contiguous array (PyTorch's permute followed by
// contiguous): output dim i is input dim dims[i].
#include <cstdint>
#include <span>

namespace kiln::kernels {

// The copy as the kernels see it: output element (i_0, ..., i_{rank-1}) of `out_sizes` (row-major) reads the input at
// the sum of i_d * in_strides[d]. Made by permute_geometry, which drops size-1 dims and merges output dims that stay
// adjacent in the input, so that most copies reach the kernels with few dims (an identity permutation becomes one
// dim). Plain arrays, so that it passes by value to a CUDA kernel.
struct PermuteGeometry {
  static constexpr int max_rank = 8;
  int rank = 0;
  std::int64_t out_sizes[max_rank] = {};
  std::int64_t in_strides[max_rank] = {};
};

// in_sizes: the input's sizes; dims: a permutation of 0..rank-1 (checked by the caller), rank <= max_rank.
PermuteGeometry permute_geometry(std::span<const std::int64_t> in_sizes, std::span<const std::int64_t> dims);

}  // namespace kiln::kernels

namespace kiln::kernels::cpu {

// y = x permuted as `geometry` says; rows of the output's last dim split over threads.
template <class T>
void permute(const T* x, T* y, const PermuteGeometry& geometry);

}  // namespace kiln::kernels::cpu

// CUDA version (float32, device pointers), in permute.cu.
namespace kiln::kernels::cuda {

void permute(const float* x, float* y, const PermuteGeometry& geometry);

}  // namespace kiln::kernels::cuda
