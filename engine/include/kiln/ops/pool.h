#pragma once
// Pooling on NCHW tensors.
#include <cstdint>

#include "kiln/tensor.h"

namespace kiln {

struct Pool2dOptions {
  std::int64_t kernel_h = 2, kernel_w = 2;
  std::int64_t stride_h = 2, stride_w = 2;
  std::int64_t pad_h = 0, pad_w = 0;
  bool ceil_mode = false;  // output size rounds up (windows may start in the padding but not past it)
  // Average pooling only: divide by the full window (count_include_pad, TF "VALID"/PyTorch default) or by the number
  // of elements inside the unpadded input; divisor_override > 0 replaces both.
  bool count_include_pad = true;
  std::int64_t divisor_override = 0;
  static Pool2dOptions square(std::int64_t kernel, std::int64_t stride, std::int64_t padding = 0) {
    Pool2dOptions options;
    options.kernel_h = options.kernel_w = kernel;
    options.stride_h = options.stride_w = stride;
    options.pad_h = options.pad_w = padding;
    return options;
  }
};

Tensor max_pool2d(const Tensor& x, const Pool2dOptions& options);
// max_pool2d(relu(x)) in one pass over x, bit for bit the same values and gradients (relu(NaN) = 0 as in relu); it
// never materialises relu(x), which for a convolution's output is most of the two ops' memory traffic.
Tensor relu_max_pool2d(const Tensor& x, const Pool2dOptions& options);
Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& options);
// Output [N, C, out_h, out_w]; window i covers [floor(i*H/out_h), ceil((i+1)*H/out_h)) as in PyTorch.
Tensor adaptive_max_pool2d(const Tensor& x, std::int64_t out_h, std::int64_t out_w);
Tensor adaptive_avg_pool2d(const Tensor& x, std::int64_t out_h, std::int64_t out_w);
// [N, C, H, W] -> [N, C]: the mean over H and W.
Tensor global_avg_pool2d(const Tensor& x);

}  // namespace kiln
