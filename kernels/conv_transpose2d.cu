// CUDA transposed convolution: conv2d's implicit-GEMM kernels run in the adjoint roles, as on the CPU (forward = the
// adjoint convolution's backward-data, backward-data = its forward, weight gradient with input and output gradient
// swapped).
#include "kernels/conv_transpose2d.h"
#include "kernels/elementwise.h"

namespace kiln::kernels::cuda {

void conv_transpose2d_forward(const float* x, const float* weight, const float* bias, float* y, std::int64_t batch,
                              std::int64_t in_channels, const cpu::Conv2dGeometry& adjoint) {
  conv2d_backward_data(x, weight, y, batch, in_channels, adjoint);
  if (bias != nullptr) bias_add_forward(y, bias, y, batch, adjoint.channels, adjoint.height * adjoint.width);
}

void conv_transpose2d_backward_data(const float* dy, const float* weight, float* dx, std::int64_t batch,
                                    std::int64_t in_channels, const cpu::Conv2dGeometry& adjoint) {
  conv2d_forward(dy, weight, nullptr, dx, batch, in_channels, adjoint);
}

std::int64_t conv_transpose2d_backward_weight_scratch(std::int64_t batch, std::int64_t in_channels,
                                                      const cpu::Conv2dGeometry& adjoint) {
  return conv2d_backward_weight_scratch(batch, in_channels, adjoint);
}

void conv_transpose2d_backward_weight(const float* x, const float* dy, float* dweight, float* scratch,
                                      std::int64_t batch, std::int64_t in_channels,
                                      const cpu::Conv2dGeometry& adjoint) {
  conv2d_backward_weight(dy, x, dweight, scratch, batch, in_channels, adjoint);
}

}  // namespace kiln::kernels::cuda
