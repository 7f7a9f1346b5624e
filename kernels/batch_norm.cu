// CUDA batch normalisation over x [outer, channels, inner]. Per-channel reductions run one block per channel (float
// partials per thread, then warp shuffles and the warp totals in a fixed order: deterministic, no atomics); the
// elementwise passes are grid-stride loops.
#include <algorithm>

#include "kernels/batch_norm.h"
#include "kernels/block_reduce.h"

namespace kiln::kernels::cuda {
namespace {

// The flat index of the k-th value of channel c, k = o * inner + i.
__device__ std::int64_t channel_value(std::int64_t k, std::int64_t c, std::int64_t channels, std::int64_t inner) {
  return ((k / inner) * channels + c) * inner + k % inner;
}

// One block per channel: threads stride over the channel's outer * inner values, twice (the mean, then the squared
// deviations from it, which avoids the cancellation of E[x^2] - E[x]^2); thread 0 writes the statistics.
__global__ void batch_norm_statistics_kernel(const float* x, float* mean, float* variance, float* running_mean,
                                             float* running_var, std::int64_t outer, std::int64_t channels,
                                             std::int64_t inner, float momentum) {
  const std::int64_t c = blockIdx.x, count = outer * inner;
  float total = 0.0f;
  for (std::int64_t k = threadIdx.x; k < count; k += blockDim.x) total += x[channel_value(k, c, channels, inner)];
  const float batch_mean = block_sum(total) / static_cast<float>(count);
  float squares = 0.0f;
  for (std::int64_t k = threadIdx.x; k < count; k += blockDim.x) {
    const float deviation = x[channel_value(k, c, channels, inner)] - batch_mean;
    squares += deviation * deviation;
  }
  const float sum_squares = block_sum(squares);
  if (threadIdx.x == 0) {
    mean[c] = batch_mean;
    variance[c] = sum_squares / static_cast<float>(count);
    running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * batch_mean;
    running_var[c] = (1.0f - momentum) * running_var[c] + momentum * sum_squares / static_cast<float>(count - 1);
  }
}

// Grid-stride over all elements.
__global__ void batch_norm_forward_kernel(const float* x, const float* mean, const float* variance, const float* gamma,
                                          const float* beta, float* y, std::int64_t channels, std::int64_t inner,
                                          std::int64_t n, float eps) {
  KILN_GRID_STRIDE_LOOP(i, n) {
    const std::int64_t c = (i / inner) % channels;
    y[i] = (x[i] - mean[c]) * (gamma[c] * rsqrtf(variance[c] + eps)) + beta[c];
  }
}

// One block per channel: the sums of dy and dy * xhat over the channel, into channel_sums and, when wanted, dbeta
// and dgamma.
__global__ void batch_norm_backward_sums_kernel(const float* x, const float* dy, const float* mean,
                                                const float* variance, float* dgamma, float* dbeta, float* channel_sums,
                                                std::int64_t outer, std::int64_t channels, std::int64_t inner,
                                                float eps) {
  const std::int64_t c = blockIdx.x, count = outer * inner;
  const float channel_mean = mean[c], inv_std = rsqrtf(variance[c] + eps);
  BlockSums<float, 2> sums{};
  for (std::int64_t k = threadIdx.x; k < count; k += blockDim.x) {
    const std::int64_t index = channel_value(k, c, channels, inner);
    sums.value[0] += dy[index];
    sums.value[1] += dy[index] * ((x[index] - channel_mean) * inv_std);
  }
  sums = block_sum(sums);
  if (threadIdx.x == 0) {
    channel_sums[2 * c] = sums.value[0];
    channel_sums[2 * c + 1] = sums.value[1];
    if (dbeta != nullptr) dbeta[c] = sums.value[0];
    if (dgamma != nullptr) dgamma[c] = sums.value[1];
  }
}

// Grid-stride over all elements: dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat)) with batch
// statistics (their gradient included), gamma * inv_std * dy with constant ones.
__global__ void batch_norm_backward_dx_kernel(const float* x, const float* dy, const float* mean, const float* variance,
                                              const float* gamma, const float* channel_sums, float* dx,
                                              std::int64_t channels, std::int64_t inner, std::int64_t n, float eps,
                                              bool batch_statistics, float inv_count) {
  KILN_GRID_STRIDE_LOOP(i, n) {
    const std::int64_t c = (i / inner) % channels;
    const float inv_std = rsqrtf(variance[c] + eps);
    float gradient = dy[i];
    if (batch_statistics) {
      const float xhat = (x[i] - mean[c]) * inv_std;
      gradient -= (channel_sums[2 * c] + xhat * channel_sums[2 * c + 1]) * inv_count;
    }
    dx[i] = gamma[c] * inv_std * gradient;
  }
}

}  // namespace

void batch_norm_statistics(const float* x, float* mean, float* variance, float* running_mean, float* running_var,
                           std::int64_t outer, std::int64_t channels, std::int64_t inner, double momentum) {
  if (channels == 0) return;  // an empty grid is a launch error
  KILN_LAUNCH(batch_norm_statistics_kernel, dim3(static_cast<unsigned>(channels)),
              dim3(reduction_threads(outer * inner)), 0, nullptr, x, mean, variance, running_mean, running_var, outer,
              channels, inner, static_cast<float>(momentum));
}

void batch_norm_forward(const float* x, const float* mean, const float* variance, const float* gamma, const float* beta,
                        float* y, std::int64_t outer, std::int64_t channels, std::int64_t inner, double eps) {
  const std::int64_t n = outer * channels * inner;
  KILN_LAUNCH(batch_norm_forward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, x, mean, variance, gamma,
              beta, y, channels, inner, n, static_cast<float>(eps));
}

void batch_norm_backward(const float* x, const float* dy, const float* mean, const float* variance, const float* gamma,
                         float* dx, float* dgamma, float* dbeta, float* channel_sums, std::int64_t outer,
                         std::int64_t channels, std::int64_t inner, double eps, bool batch_statistics) {
  if (channels == 0) return;  // nothing to compute, and an empty grid is a launch error
  const std::int64_t n = outer * channels * inner;
  // With constant statistics dx needs no reduction: the sums run only for dgamma, dbeta or a train-mode dx.
  if (dgamma != nullptr || dbeta != nullptr || (dx != nullptr && batch_statistics)) {
    KILN_LAUNCH(batch_norm_backward_sums_kernel, dim3(static_cast<unsigned>(channels)),
                dim3(reduction_threads(outer * inner)), 0, nullptr, x, dy, mean, variance, dgamma, dbeta, channel_sums,
                outer, channels, inner, static_cast<float>(eps));
  }
  if (dx != nullptr) {
    const float inv_count = batch_statistics ? 1.0f / static_cast<float>(outer * inner) : 0.0f;
    KILN_LAUNCH(batch_norm_backward_dx_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, x, dy, mean, variance,
                gamma, channel_sums, dx, channels, inner, n, static_cast<float>(eps), batch_statistics, inv_count);
  }
}

}  // namespace kiln::kernels::cuda
