#pragma once
// Launch-shape helpers shared by kiln's .cu kernel files.
#include <algorithm>
#include <cstdint>

#include "kernels/simt/cuda_compat.h"

namespace kiln::kernels::cuda {

constexpr unsigned threads_per_block = 256;

// Blocks for a grid-stride loop over n items: enough to fill a large GPU, never more than the items need.
inline dim3 grid_for(std::int64_t n, unsigned block = threads_per_block) {
  const std::int64_t blocks = (n + block - 1) / block;
  return dim3(static_cast<unsigned>(std::clamp<std::int64_t>(blocks, 1, 8192)));
}

}  // namespace kiln::kernels::cuda

// The grid-stride loop every elementwise kernel uses: i runs over [0, n) across the whole grid.
#define KILN_GRID_STRIDE_LOOP(i, n)                                                                      \
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
