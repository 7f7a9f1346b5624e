// CUDA softmax cross-entropy, one thread per position (a sample, or one pixel of one sample: neighbouring threads
// read neighbouring pixels, so per-pixel loads coalesce). The loss is two fixed-shape passes, per-block partials and
// then one block over them, with no atomics: the sum is reproducible.
#include <algorithm>

#include "kernels/block_reduce.h"
#include "kernels/cross_entropy.h"
#include "kernels/index_check.h"

namespace kiln::kernels::cuda {
namespace {

// The offset of the first class score of a position; its other scores follow `inner` apart.
__device__ std::int64_t scores_offset(std::int64_t position, std::int64_t classes, std::int64_t inner) {
  return (position / inner) * classes * inner + position % inner;
}

// log(sum exp(scores)), the maximum subtracted first so no exp overflows.
__device__ float log_sum_exp(const float* scores, std::int64_t classes, std::int64_t inner) {
  float largest = scores[0];
  for (std::int64_t c = 1; c < classes; ++c) largest = fmaxf(largest, scores[c * inner]);
  float total = 0.0f;
  for (std::int64_t c = 0; c < classes; ++c) total += expf(scores[c * inner] - largest);
  return largest + logf(total);
}

// Grid-stride over positions: each block writes the sum of its (weighted) loss terms, the sum of their weights, how
// many targets count and the first position of an invalid target (`positions` when none).
__global__ void cross_entropy_partials_kernel(const float* logits, const std::int32_t* targets, const float* weights,
                                              std::int64_t positions, std::int64_t classes, std::int64_t inner,
                                              std::int32_t ignore_index, float* loss_partials, float* weight_partials,
                                              std::int32_t* count_partials) {
  float loss = 0.0f, weight_sum = 0.0f;
  std::int32_t counted = 0;
  auto first_invalid = static_cast<std::int32_t>(positions);
  KILN_GRID_STRIDE_LOOP(position, positions) {
    const std::int32_t target = targets[position];
    if (target == ignore_index) continue;
    if (target < 0 || target >= classes) {
      if (first_invalid == positions) first_invalid = static_cast<std::int32_t>(position);  // the thread's lowest
      continue;
    }
    const float* scores = logits + scores_offset(position, classes, inner);
    const float term = log_sum_exp(scores, classes, inner) - scores[target * inner];
    if (weights == nullptr) {
      loss += term;
    } else {
      loss += weights[target] * term;
      weight_sum += weights[target];
    }
    ++counted;
  }
  loss = block_sum(loss);
  weight_sum = block_sum(weight_sum);
  counted = block_sum(counted);
  first_invalid = block_min(first_invalid);
  if (threadIdx.x == 0) {
    loss_partials[blockIdx.x] = loss;
    weight_partials[blockIdx.x] = weight_sum;
    count_partials[2 * blockIdx.x] = counted;
    count_partials[2 * blockIdx.x + 1] = first_invalid;
  }
}

// One block: threads stride over the partials, block_sum adds them; thread 0 writes the mean, the count and (with
// weights) the weight sum, and reports the first invalid target.
__global__ void cross_entropy_final_kernel(const float* loss_partials, const float* weight_partials,
                                           const std::int32_t* count_partials, unsigned blocks, bool weighted,
                                           const std::int32_t* targets, std::int32_t positions, float* loss,
                                           std::int32_t* counted_out, float* weight_sum_out, IndexCheck check,
                                           IndexCheckFailure* failure) {
  float total = 0.0f, weight_sum = 0.0f;
  std::int32_t counted = 0, first_invalid = positions;
  for (unsigned b = threadIdx.x; b < blocks; b += blockDim.x) {
    total += loss_partials[b];
    weight_sum += weight_partials[b];
    counted += count_partials[2 * b];
    first_invalid = count_partials[2 * b + 1] < first_invalid ? count_partials[2 * b + 1] : first_invalid;
  }
  total = block_sum(total);
  weight_sum = block_sum(weight_sum);
  counted = block_sum(counted);
  first_invalid = block_min(first_invalid);
  if (threadIdx.x == 0) {
    const float denominator = weighted ? weight_sum : static_cast<float>(counted);
    *loss = denominator > 0.0f ? total / denominator : 0.0f;
    *counted_out = counted;
    if (weighted) *weight_sum_out = weight_sum;
    if (first_invalid < positions) report_index_failure(failure, check, first_invalid, targets[first_invalid]);
  }
}

// Grid-stride over positions: each thread writes all class gradients of its position.
__global__ void cross_entropy_backward_kernel(const float* logits, const std::int32_t* targets, const float* weights,
                                              float* dlogits, std::int64_t positions, std::int64_t classes,
                                              std::int64_t inner, std::int32_t ignore_index, const float* grad,
                                              const std::int32_t* counted, const float* weight_sum) {
  // The mean's factor, grad / denominator, in double; unweighted it is rounded once here, weighted once per position
  // after the target's weight.
  const double denominator = weights == nullptr ? static_cast<double>(*counted) : static_cast<double>(*weight_sum);
  const double mean_scale = denominator > 0.0 ? static_cast<double>(*grad) * (1.0 / denominator) : 0.0;
  const auto scale = static_cast<float>(mean_scale);
  KILN_GRID_STRIDE_LOOP(position, positions) {
    const std::int64_t offset = scores_offset(position, classes, inner);
    const float* scores = logits + offset;
    float* gradient = dlogits + offset;
    const std::int32_t target = targets[position];
    // An invalid target (reported by the forward) is left out, as in the loss.
    if (target == ignore_index || target < 0 || target >= classes) {
      for (std::int64_t c = 0; c < classes; ++c) gradient[c * inner] = 0.0f;
      continue;
    }
    const float factor = weights == nullptr ? scale : static_cast<float>(mean_scale * weights[target]);
    const float lse = log_sum_exp(scores, classes, inner);
    for (std::int64_t c = 0; c < classes; ++c) {
      gradient[c * inner] = (expf(scores[c * inner] - lse) - (c == target ? 1.0f : 0.0f)) * factor;
    }
  }
}

}  // namespace

void cross_entropy_loss(const float* logits, const std::int32_t* targets, const float* weights, float* loss,
                        std::int32_t* counted, float* weight_sum, std::int64_t outer, std::int64_t classes,
                        std::int64_t inner, std::int32_t ignore_index, const IndexCheck& check,
                        IndexCheckFailure* failure, float* loss_partials, std::int32_t* count_partials) {
  const std::int64_t positions = outer * inner;
  // Functions of the shape only, so the summation order (and the result) is too.
  const unsigned threads = reduction_threads(positions);
  const auto blocks =
      static_cast<unsigned>(std::clamp<std::int64_t>((positions + threads - 1) / threads, 1, cross_entropy_partials));
  float* weight_partials = loss_partials + cross_entropy_partials;
  KILN_LAUNCH(cross_entropy_partials_kernel, dim3(blocks), dim3(threads), 0, nullptr, logits, targets, weights,
              positions, classes, inner, ignore_index, loss_partials, weight_partials, count_partials);
  KILN_LAUNCH(cross_entropy_final_kernel, dim3(1), dim3(reduction_threads(blocks)), 0, nullptr, loss_partials,
              weight_partials, count_partials, blocks, weights != nullptr, targets,
              static_cast<std::int32_t>(positions), loss, counted, weight_sum, check, failure);
}

void cross_entropy_backward(const float* logits, const std::int32_t* targets, const float* weights, float* dlogits,
                            std::int64_t outer, std::int64_t classes, std::int64_t inner, std::int32_t ignore_index,
                            const float* grad, const std::int32_t* counted, const float* weight_sum) {
  const std::int64_t positions = outer * inner;
  KILN_LAUNCH(cross_entropy_backward_kernel, grid_for(positions), dim3(threads_per_block), 0, nullptr, logits, targets,
              weights, dlogits, positions, classes, inner, ignore_index, grad, counted, weight_sum);
}

}  // namespace kiln::kernels::cuda
