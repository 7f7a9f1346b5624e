#pragma once
// Block-wide sums for kiln's .cu kernels: warp shuffles, then the warp totals added in a fixed order, so results
// are deterministic (no atomics).
#include <algorithm>
#include <cstdint>

#include "kernels/launch.h"

namespace kiln::kernels::cuda {

// Threads for a block that reduces `items` values: whole warps, no more than the items need (a small reduction would
// otherwise leave most of a 256-thread block idle through every step).
inline unsigned reduction_threads(std::int64_t items) {
  return static_cast<unsigned>(std::clamp<std::int64_t>((items + 31) / 32 * 32, 32, threads_per_block));
}

template <class T, int N>
struct BlockSums {
  T value[N];
};

// Sums each of the N per-thread values over the block and returns the totals to every thread. Every thread of the
// block (whole warps, at most threads_per_block) must call it.
template <class T, int N>
__device__ BlockSums<T, N> block_sum(BlockSums<T, N> sums) {
  __shared__ T warp_totals[N][threads_per_block / 32];
  for (int offset = 16; offset > 0; offset /= 2) {
    for (int k = 0; k < N; ++k) sums.value[k] += __shfl_down_sync(0xffffffffu, sums.value[k], offset);
  }
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) {
    for (int k = 0; k < N; ++k) warp_totals[k][warp] = sums.value[k];
  }
  __syncthreads();
  BlockSums<T, N> totals{};
  for (int k = 0; k < N; ++k) {
    for (unsigned w = 0; w < blockDim.x / 32; ++w) totals.value[k] += warp_totals[k][w];
  }
  __syncthreads();  // the next call rewrites warp_totals
  return totals;
}

template <class T>
__device__ T block_sum(T value) {
  return block_sum(BlockSums<T, 1>{{value}}).value[0];
}

}  // namespace kiln::kernels::cuda
