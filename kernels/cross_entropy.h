#pragma once
// Softmax cross-entropy kernels. logits [outer, classes, inner]: the class scores of position (o, i) lie `inner`
// apart ([N, C] is inner 1, per pixel [N, C, H, W] is inner H*W); targets [outer, inner]. Positions whose target
// equals ignore_index are skipped; the CPU kernels take every other target as checked to lie in [0, classes).
// Log-sum-exp subtracts the maximum and accumulates in double.
#include <cstdint>

#include "base/cuda/index_check.h"

namespace kiln::kernels::cpu {

// Sum over the counted positions of logsumexp(scores) - scores[target], in double. The summation order is fixed
// (independent of the thread count), so the result is reproducible.
template <class T>
double cross_entropy_loss_sum(const T* logits, const std::int32_t* targets, std::int64_t outer, std::int64_t classes,
                              std::int64_t inner, std::int32_t ignore_index);

// dlogits = (softmax(scores) - onehot(target)) * scale at counted positions, 0 at ignored ones.
template <class T>
void cross_entropy_backward(const T* logits, const std::int32_t* targets, T* dlogits, std::int64_t outer,
                            std::int64_t classes, std::int64_t inner, std::int32_t ignore_index, double scale);

}  // namespace kiln::kernels::cpu

// CUDA versions (float32 logits, int32 targets, device pointers), in cross_entropy.cu. Log-sum-exp accumulates in
// float. Positions are counted in int32, so outer * inner must be below 2^31. Nothing is read back to the host: the
// mean's count stays on the device for the backward, and a target outside [0, classes) that is not ignore_index is
// reported into the device's failure record (base/cuda/index_check.h).
namespace kiln::kernels::cuda {

// Per-block partials of cross_entropy_loss: scratch of this many floats and 2 * this many int32.
constexpr std::int64_t cross_entropy_partials = 256;

// loss[0] = mean over counted positions of logsumexp(scores) - scores[target] (0 when none count); counted[0] = how
// many positions count. An invalid target adds nothing; the first (lowest position) is reported into `failure` as
// `check` describes. Two fixed-shape passes, no atomics: deterministic.
void cross_entropy_loss(const float* logits, const std::int32_t* targets, float* loss, std::int32_t* counted,
                        std::int64_t outer, std::int64_t classes, std::int64_t inner, std::int32_t ignore_index,
                        const kiln::cuda::IndexCheck& check, kiln::cuda::IndexCheckFailure* failure,
                        float* loss_partials, std::int32_t* count_partials);

// The backward scaled by grad[0] / counted[0] (0 when counted[0] is 0), both read on the device.
void cross_entropy_backward(const float* logits, const std::int32_t* targets, float* dlogits, std::int64_t outer,
                            std::int64_t classes, std::int64_t inner, std::int32_t ignore_index, const float* grad,
                            const std::int32_t* counted);

}  // namespace kiln::kernels::cuda
