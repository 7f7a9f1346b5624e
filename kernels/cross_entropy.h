#pragma once
// Softmax cross-entropy kernels. logits [outer, classes, inner]: the class scores of position (o, i) lie `inner`
// apart ([N, C] is inner 1, per pixel [N, C, H, W] is inner H*W); targets [outer, inner]. Positions whose target
// equals ignore_index are skipped; the CPU kernels take every other target as checked to lie in [0, classes).
// Optional class weights ([classes] floats, null for none) scale each position's term by weights[target]; the op
// then divides by the sum of those weights instead of the count. Log-sum-exp subtracts the maximum and accumulates
// in double.
#include <cstdint>

#include "base/cuda/index_check.h"

namespace kiln::kernels::cpu {

// Sum over the counted positions of weights[target] * (logsumexp(scores) - scores[target]) (weight 1 when weights
// is null), in double. The summation order is fixed (independent of the thread count), so the result is
// reproducible.
template <class T>
double cross_entropy_loss_sum(const T* logits, const std::int32_t* targets, const float* weights, std::int64_t outer,
                              std::int64_t classes, std::int64_t inner, std::int32_t ignore_index);

// dlogits = (softmax(scores) - onehot(target)) * scale * weights[target] (weight 1 when weights is null) at counted
// positions, 0 at ignored ones.
template <class T>
void cross_entropy_backward(const T* logits, const std::int32_t* targets, const float* weights, T* dlogits,
                            std::int64_t outer, std::int64_t classes, std::int64_t inner, std::int32_t ignore_index,
                            double scale);

}  // namespace kiln::kernels::cpu

// CUDA versions (float32 logits, int32 targets, float32 weights, device pointers), in cross_entropy.cu. Log-sum-exp
// and the weight sum accumulate in float. Positions are counted in int32, so outer * inner must be below 2^31.
// Nothing is read back to the host: the mean's denominator stays on the device for the backward, and a target
// outside [0, classes) that is not ignore_index is reported into the device's failure record
// (base/cuda/index_check.h) and left out of the loss and the gradient.
namespace kiln::kernels::cuda {

// Per-block partials of cross_entropy_loss: scratch of 2 * this many floats and 2 * this many int32.
constexpr std::int64_t cross_entropy_partials = 256;

// loss[0] = sum over counted positions of w * (logsumexp(scores) - scores[target]), divided by the sum of their w,
// where w is weights[target], or 1 when weights is null (the mean over counted positions); 0 when that sum is 0.
// counted[0] = how many positions count; with weights, weight_sum[0] = the sum of their weights (weight_sum may be
// null without weights). An invalid target adds nothing; the first (lowest position) is reported into `failure` as
// `check` describes. Two fixed-shape passes, no atomics: deterministic.
void cross_entropy_loss(const float* logits, const std::int32_t* targets, const float* weights, float* loss,
                        std::int32_t* counted, float* weight_sum, std::int64_t outer, std::int64_t classes,
                        std::int64_t inner, std::int32_t ignore_index, const kiln::cuda::IndexCheck& check,
                        kiln::cuda::IndexCheckFailure* failure, float* loss_partials, std::int32_t* count_partials);

// The backward scaled by grad[0] / counted[0] without weights, by grad[0] * weights[target] / weight_sum[0] with
// them (0 when the denominator is 0), all read on the device.
void cross_entropy_backward(const float* logits, const std::int32_t* targets, const float* weights, float* dlogits,
                            std::int64_t outer, std::int64_t classes, std::int64_t inner, std::int32_t ignore_index,
                            const float* grad, const std::int32_t* counted, const float* weight_sum);

}  // namespace kiln::kernels::cuda
