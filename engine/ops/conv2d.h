#pragma once
// conv2d's argument checks, shared with the ops that contain a convolution (conv2d_relu_max_pool2d).
#include "kernels/conv2d.h"
#include "kiln/ops/conv.h"

namespace kiln::ops {

// Checks x [N, C, H, W], weight [K, C, R, S], bias [K] or undefined and the options (errors name `op`), and returns
// the convolution's per-image geometry.
kernels::cpu::Conv2dGeometry checked_conv2d_geometry(const char* op, const Tensor& x, const Tensor& weight,
                                                     const Tensor& bias, const Conv2dOptions& options);

}  // namespace kiln::ops
