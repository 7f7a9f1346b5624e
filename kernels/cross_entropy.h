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
