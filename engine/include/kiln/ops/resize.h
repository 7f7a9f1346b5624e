#pragma once
// Bilinear resizing of NCHW tensors.
#include <cstdint>

#include "kiln/resize_mode.h"
#include "kiln/tensor.h"

namespace kiln {

Tensor resize_bilinear(const Tensor& x, std::int64_t out_h, std::int64_t out_w, ResizeMode mode);

}  // namespace kiln
