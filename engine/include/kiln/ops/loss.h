#pragma once
// Losses.
#include <cstdint>

#include "kiln/tensor.h"

namespace kiln {

// Mean softmax cross-entropy. logits [N, C] with targets [N], or per pixel: logits [N, C, H, W] with targets
// [N, H, W]. Targets are int32 class indices; entries equal to ignore_index contribute nothing and are not counted
// in the mean. Out-of-range targets throw kiln::Error.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, std::int32_t ignore_index = -100);

}  // namespace kiln
