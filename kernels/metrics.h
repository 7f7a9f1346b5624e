#pragma once
// Metrics kernels: a confusion matrix [classes, classes] (int32, row = label, column = prediction) accumulated from
// scores laid out as cross-entropy's logits: [outer, classes, inner], the scores of position (o, i) lying `inner`
// apart ([N, C] is inner 1; per pixel [N, C, H, W] is inner H*W), labels [outer, inner]. The prediction of a position
// is the index of its largest score, the first on ties; a NaN never beats the best so far (only a NaN in class 0
// stays the prediction). Positions whose label is the ignore label count nowhere.
#include <cstdint>

#include "base/cuda/index_check.h"
#include "kernels/host_device.h"

namespace kiln::kernels {

template <class T>
KILN_HOST_DEVICE inline std::int32_t predicted_class(const T* scores, std::int64_t classes, std::int64_t stride) {
  std::int64_t best = 0;
  for (std::int64_t c = 1; c < classes; ++c) {
    if (scores[c * stride] > scores[best * stride]) best = c;
  }
  return static_cast<std::int32_t>(best);
}

}  // namespace kiln::kernels

namespace kiln::kernels::cpu {

// confusion[label][prediction] += 1 for every position whose label is not ignore_label; every other label must
// already be checked to lie in [0, classes).
template <class T>
void accumulate_confusion(const T* logits, const std::int32_t* labels, std::int32_t* confusion, std::int64_t outer,
                          std::int64_t classes, std::int64_t inner, std::int32_t ignore_label);

}  // namespace kiln::kernels::cpu

// CUDA version (float32 logits, device pointers), in metrics.cu. Positions are counted in int32.
namespace kiln::kernels::cuda {

// Blocks of the counting kernel, and so the int32 scratch it needs for the first invalid position of each.
constexpr std::int64_t confusion_partials = 256;

// As the CPU version, for every position whose label lies in [0, classes); the first position (lowest index) with a
// label outside that is not ignore_label is left out and reported into `failure` as `check` describes
// (base/cuda/index_check.h). The counts are integer atomic additions, whose sums do not depend on their order: the
// result is deterministic. The first invalid position is a fixed-shape two-pass minimum.
void accumulate_confusion(const float* logits, const std::int32_t* labels, std::int32_t* confusion, std::int64_t outer,
                          std::int64_t classes, std::int64_t inner, std::int32_t ignore_label,
                          const kiln::cuda::IndexCheck& check, kiln::cuda::IndexCheckFailure* failure,
                          std::int32_t* invalid_partials);

}  // namespace kiln::kernels::cuda
