#pragma once
// Elementwise ops and activations. Shapes of a and b must match exactly (no broadcasting) except in bias_add.
#include "kiln/tensor.h"

namespace kiln {

Tensor add(const Tensor& a, const Tensor& b);  // residual connections
Tensor mul(const Tensor& a, const Tensor& b);  // elementwise product
Tensor scale(const Tensor& x, double factor);  // multiply by a scalar
Tensor relu(const Tensor& x);
Tensor relu6(const Tensor& x);  // min(max(x, 0), 6)
// x: [N, C, ...], bias: [C]; adds bias[c] to every element of channel c.
Tensor bias_add(const Tensor& x, const Tensor& bias);

}  // namespace kiln
