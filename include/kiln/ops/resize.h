#pragma once
// Bilinear resizing of NCHW tensors.
#include <cstdint>

#include "kiln/tensor.h"

namespace kiln {

enum class ResizeMode {
  align_corners,  // corners of input and output align: src = dst * (in - 1) / (out - 1)
  half_pixel,     // pixel centres align: src = (dst + 0.5) * in / out - 0.5 (PyTorch align_corners=False)
  tf1_legacy,     // TensorFlow 1.x resize_bilinear default (used by RoomNet): src = dst * in / out
};

Tensor resize_bilinear(const Tensor& x, std::int64_t out_h, std::int64_t out_w, ResizeMode mode);

}  // namespace kiln
