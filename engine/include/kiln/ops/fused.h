#pragma once
// Fused ops: one op for a chain of plain ops, the same values and gradients (to rounding) for less memory traffic.
#include "kiln/ops/conv.h"
#include "kiln/ops/pool.h"

namespace kiln {

// relu_max_pool2d(conv2d(x, weight, bias, conv), pool). On the CPU a few images at a time, so that the convolution's
// output never goes to memory (it is not kept: the backward recomputes nothing but routes through the pool's argmax);
// on CUDA the two ops run one after the other.
Tensor conv2d_relu_max_pool2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& conv,
                              const Pool2dOptions& pool);

}  // namespace kiln
