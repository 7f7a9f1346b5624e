#pragma once
// Softmax cross-entropy kernels. logits [outer, classes, inner]: the class scores of position (o, i) lie `inner`
// apart ([N, C] is inner 1, per pixel [N, C, H, W] is inner H*W); targets [outer, inner]. Positions whose target
// equals ignore_index are skipped; every other target must already be checked to lie in [0, classes).
// Log-sum-exp subtracts the maximum and accumulates in double.
#include <cstdint>

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
// float. Positions are counted in int32, so outer * inner must be below 2^31.
namespace kiln::kernels::cuda {

// Per-block partials of cross_entropy_loss: scratch of this many floats and 2 * this many int32.
constexpr std::int64_t cross_entropy_partials = 256;

// loss[0] = mean over counted positions of logsumexp(scores) - scores[target] (0 when none count); status[0] = how
// many positions count, status[1] = how many targets are neither ignore_index nor in [0, classes) (such positions
// add nothing: the caller checks status[1] and reports them). Two fixed-shape passes, no atomics: deterministic.
void cross_entropy_loss(const float* logits, const std::int32_t* targets, float* loss, std::int32_t* status,
                        std::int64_t outer, std::int64_t classes, std::int64_t inner, std::int32_t ignore_index,
                        float* loss_partials, std::int32_t* count_partials);

void cross_entropy_backward(const float* logits, const std::int32_t* targets, float* dlogits, std::int64_t outer,
                            std::int64_t classes, std::int64_t inner, std::int32_t ignore_index, double scale);

}  // namespace kiln::kernels::cuda
