#pragma once
// How bilinear resizing maps output positions to input ones: a plain enum shared by the resize op
// (kiln/ops/resize.h) and its kernels, which sit below the op layer.
namespace kiln {

enum class ResizeMode {
  align_corners,  // corners of input and output align: src = dst * (in - 1) / (out - 1)
  half_pixel,     // pixel centres align: src = (dst + 0.5) * in / out - 0.5 (PyTorch align_corners=False)
  tf1_legacy,     // TensorFlow 1.x resize_bilinear default (used by RoomNet): src = dst * in / out
};

}  // namespace kiln
