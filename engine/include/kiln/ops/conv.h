#pragma once
// 2-D convolution and transposed convolution on NCHW tensors.
#include <cstdint>

#include "kiln/tensor.h"

namespace kiln {

struct Conv2dOptions {
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
  static Conv2dOptions square(std::int64_t stride, std::int64_t padding) {
    return {stride, stride, padding, padding};
  }
};

// x [N, C, H, W], weight [K, C, R, S], bias [K] or undefined -> [N, K, OH, OW],
// OH = (H + 2*pad_h - R) / stride_h + 1.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& options = {});

struct ConvTranspose2dOptions {
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
  std::int64_t output_pad_h = 0, output_pad_w = 0;
  static ConvTranspose2dOptions square(std::int64_t stride, std::int64_t padding, std::int64_t output_padding = 0) {
    return {stride, stride, padding, padding, output_padding, output_padding};
  }
};

// x [N, C, H, W], weight [C, K, R, S] (PyTorch's layout), bias [K] or undefined -> [N, K, OH, OW],
// OH = (H - 1)*stride_h - 2*pad_h + R + output_pad_h. The adjoint of conv2d with the same weight.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTranspose2dOptions& options = {});

}  // namespace kiln
