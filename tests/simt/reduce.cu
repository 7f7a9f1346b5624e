// Sample kernel: a block reduction with warp shuffles, shared memory and one atomicAdd per block.
#include "kernels/simt/cuda_compat.h"
#include "tests/simt/samples.h"

namespace kiln::simt::samples {
namespace {

constexpr unsigned full_mask = 0xffffffffu;

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = warpSize / 2; offset > 0; offset /= 2) {
    v += __shfl_down_sync(full_mask, v, offset);
  }
  return v;
}

// blockDim.x is a multiple of 32.
__global__ void block_sum_kernel(const float* x, float* sum, int n) {
  __shared__ float warp_sums[32];
  const int lane = static_cast<int>(threadIdx.x) % warpSize, warp = static_cast<int>(threadIdx.x) / warpSize;
  float v = 0.0f;
  const int stride = static_cast<int>(gridDim.x * blockDim.x);
  for (int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x); i < n; i += stride) {
    v += x[i];
  }
  v = warp_sum(v);
  if (lane == 0) {
    warp_sums[warp] = v;
  }
  __syncthreads();
  if (warp == 0) {
    v = warp_sum(lane < static_cast<int>(blockDim.x) / warpSize ? warp_sums[lane] : 0.0f);
    if (lane == 0) {
      atomicAdd(sum, v);
    }
  }
}

}  // namespace

void block_sum(const float* x, float* sum, int n, int blocks, int threads_per_block) {
  KILN_LAUNCH(block_sum_kernel, dim3(blocks), dim3(threads_per_block), 0, nullptr, x, sum, n);
}

}  // namespace kiln::simt::samples
