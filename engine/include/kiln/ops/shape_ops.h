#pragma once
// Ops that rearrange elements. reshape and flatten are Tensor methods (views).
#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

#include "kiln/tensor.h"

namespace kiln {

// Concatenates [N, C_i, ...] tensors with equal other dims along dim 1 (channels).
Tensor concat_channels(const std::vector<Tensor>& inputs);

// PyTorch's x.permute(dims).contiguous(): output dim i is input dim dims[i], as a new contiguous tensor (kiln's
// tensors have no strides). dims must name every dim once; a negative dim counts from the end. float32, float64 and,
// on the CPU, int32.
Tensor permute(const Tensor& x, std::span<const std::int64_t> dims);
inline Tensor permute(const Tensor& x, std::initializer_list<std::int64_t> dims) {
  return permute(x, std::span<const std::int64_t>(dims.begin(), dims.size()));
}

// x[:, :, top:top+height, left:left+width] of an NCHW tensor, as a new contiguous tensor (FCN's alignment of upsampled
// score maps with skip connections and the input). The window must lie inside x; float32 or float64.
Tensor crop2d(const Tensor& x, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width);

}  // namespace kiln
