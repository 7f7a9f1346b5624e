#pragma once
// Device side of base/cuda/index_check.h: the kernels that read class indices find the first one out of range with a
// block-wide minimum and report it into the device's failure record, no atomics.
#include <cstdint>

#include "base/cuda/index_check.h"
#include "kernels/launch.h"

namespace kiln::kernels::cuda {

using kiln::cuda::IndexCheck;
using kiln::cuda::IndexCheckFailure;

// The smallest of the threads' values, to every thread. Every thread of the block (whole warps, at most
// threads_per_block) must call it.
__device__ inline std::int32_t block_min(std::int32_t value) {
  __shared__ std::int32_t warp_minima[threads_per_block / 32];
  for (int offset = 16; offset > 0; offset /= 2) {
    const std::int32_t other = __shfl_down_sync(0xffffffffu, value, offset);
    value = other < value ? other : value;
  }
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_minima[warp] = value;
  __syncthreads();
  std::int32_t smallest = warp_minima[0];
  for (unsigned w = 1; w < blockDim.x / 32; ++w) smallest = warp_minima[w] < smallest ? warp_minima[w] : smallest;
  __syncthreads();  // the next call rewrites warp_minima
  return smallest;
}

// Records index `value` at flat `position` as the device's failure unless an earlier one is still unreported. Called
// by one thread of a kernel whose launches are ordered on the stream, so the first failure in stream order wins.
__device__ inline void report_index_failure(IndexCheckFailure* record, const IndexCheck& check, std::int64_t position,
                                            std::int32_t value) {
  if (record->failed != 0) return;
  record->check = check;
  record->position = position;
  record->value = value;
  record->failed = 1;
}

}  // namespace kiln::kernels::cuda
