#pragma once
// Fully connected layer and the matrix product under it.
#include "kiln/tensor.h"

namespace kiln {

// x [N, IN], weight [OUT, IN], bias [OUT] or undefined -> [N, OUT] = x * weight^T + bias.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

}  // namespace kiln
