// CUDA sum: pass 1 reduces fixed-size slices to per-block partials (warp shuffles, then shared memory), pass 2 sums
// the partials in one block. Fixed block counts and orders keep the result bit-reproducible.
#include "kernels/block_reduce.h"
#include "kernels/reduce.h"

namespace kiln::kernels::cuda {
namespace {

__global__ void partial_sums_kernel(const float* x, std::int64_t n, float* partials) {
  float total = 0.0f;
  KILN_GRID_STRIDE_LOOP(i, n) total += x[i];
  total = block_sum(total);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

__global__ void final_sum_kernel(const float* partials, unsigned count, float* out) {
  float total = 0.0f;
  for (unsigned i = threadIdx.x; i < count; i += blockDim.x) total += partials[i];
  total = block_sum(total);
  if (threadIdx.x == 0) *out = total;
}

__global__ void broadcast_scaled_kernel(const float* value, double factor, float* out, std::int64_t n) {
  const auto scaled = static_cast<float>(static_cast<double>(*value) * factor);
  KILN_GRID_STRIDE_LOOP(i, n) out[i] = scaled;
}

}  // namespace

void sum(const float* x, std::int64_t n, float* partials, float* out) {
  // As many blocks as the input fills, at most sum_partials: the shape depends only on n, so results reproduce.
  const unsigned blocks =
      static_cast<unsigned>(std::clamp<std::int64_t>((n + threads_per_block - 1) / threads_per_block, 1, sum_partials));
  KILN_LAUNCH(partial_sums_kernel, dim3(blocks), dim3(threads_per_block), 0, nullptr, x, n, partials);
  KILN_LAUNCH(final_sum_kernel, dim3(1), dim3(threads_per_block), 0, nullptr, partials, blocks, out);
}

void broadcast_scaled(const float* value, double factor, float* out, std::int64_t n) {
  if (n == 0) return;
  KILN_LAUNCH(broadcast_scaled_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, value, factor, out, n);
}

}  // namespace kiln::kernels::cuda
