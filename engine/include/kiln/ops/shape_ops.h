#pragma once
// Ops that rearrange elements. reshape and flatten are Tensor methods (views).
#include <vector>

#include "kiln/tensor.h"

namespace kiln {

// Concatenates [N, C_i, ...] tensors with equal other dims along dim 1 (channels).
Tensor concat_channels(const std::vector<Tensor>& inputs);

}  // namespace kiln
