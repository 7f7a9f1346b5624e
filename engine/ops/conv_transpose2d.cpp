// conv_transpose2d: shape checks, then kernels/conv_transpose2d (CPU or CUDA), which runs conv2d's kernels in the
// adjoint roles.
#include "kiln/ops/conv.h"

#include "engine/ops/dispatch.h"
#include "kernels/conv_transpose2d.h"
#include "kernels/elementwise.h"
#include "kiln/autograd.h"

namespace kiln {

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTranspose2dOptions& options) {
  const OpScope op_scope("conv_transpose2d");
  ops::check_rank("conv_transpose2d", "input", x, 4);
  ops::check_rank("conv_transpose2d", "weight", weight, 4);
  const std::int64_t batch = x.size(0), in_channels = x.size(1), out_channels = weight.size(1);
  KILN_CHECK(in_channels == weight.size(0), "conv_transpose2d: input ", shape_str(x.shape()), " has ", in_channels,
             " channels but weight ", shape_str(weight.shape()), " expects ", weight.size(0));
  KILN_CHECK(x.size(2) > 0 && x.size(3) > 0, "conv_transpose2d: input ", shape_str(x.shape()), " has no pixels");
  KILN_CHECK(options.stride_h > 0 && options.stride_w > 0 && options.pad_h >= 0 && options.pad_w >= 0,
             "conv_transpose2d: stride must be positive and padding non-negative, got stride (", options.stride_h,
             ", ", options.stride_w, ") and padding (", options.pad_h, ", ", options.pad_w, ")");
  // Output padding below the stride is what makes the adjoint convolution map the output back to x's size.
  KILN_CHECK(options.output_pad_h >= 0 && options.output_pad_w >= 0 && options.output_pad_h < options.stride_h &&
                 options.output_pad_w < options.stride_w,
             "conv_transpose2d: output padding (", options.output_pad_h, ", ", options.output_pad_w,
             ") must be non-negative and smaller than the stride (", options.stride_h, ", ", options.stride_w, ")");
  const std::int64_t out_h =
      (x.size(2) - 1) * options.stride_h - 2 * options.pad_h + weight.size(2) + options.output_pad_h;
  const std::int64_t out_w =
      (x.size(3) - 1) * options.stride_w - 2 * options.pad_w + weight.size(3) + options.output_pad_w;
  KILN_CHECK(out_h > 0 && out_w > 0, "conv_transpose2d: output size [", out_h, ", ", out_w,
             "] is not positive for input ", shape_str(x.shape()), " and weight ", shape_str(weight.shape()),
             " with padding (", options.pad_h, ", ", options.pad_w, ")");
  if (bias.defined()) {
    ops::check_rank("conv_transpose2d", "bias", bias, 1);
    KILN_CHECK(bias.size(0) == out_channels, "conv_transpose2d: bias ", shape_str(bias.shape()),
               " does not match the ", out_channels, " output channels of weight ", shape_str(weight.shape()));
  }
  ops::check_same_device_dtype("conv_transpose2d", {&x, &weight, &bias});

  // The convolution this op is the adjoint of: from [out_channels, out_h, out_w] images back to x's size.
  const kernels::cpu::Conv2dGeometry adjoint{out_channels, out_h, out_w, weight.size(2), weight.size(3),
                                             options.stride_h, options.stride_w, options.pad_h, options.pad_w};
  Tensor y = Tensor::empty({batch, out_channels, out_h, out_w}, x.dtype(), x.device());
  if (ops::on_cuda("conv_transpose2d", x)) {
    KILN_CUDA_KERNEL_CALL(kernels::cuda::conv_transpose2d_forward(x.data<float>(), weight.data<float>(),
                                                                  bias.defined() ? bias.data<float>() : nullptr,
                                                                  y.data<float>(), batch, in_channels, adjoint));
  } else {
    ops::dispatch_float("conv_transpose2d", x, [&]<class T>() {
      kernels::cpu::conv_transpose2d_forward(x.data<T>(), weight.data<T>(), bias.defined() ? bias.data<T>() : nullptr,
                                             y.data<T>(), batch, in_channels, adjoint);
    });
  }
  record(y, "conv_transpose2d", {x, weight, bias},
         [x, weight, adjoint, batch, in_channels](const Tensor& dy, const GradientNeeds& needs) {
           const OpScope backward_scope("conv_transpose2d", Pass::backward);
           Tensor dx, dweight, dbias;
           if (needs[0]) dx = Tensor::empty(x.shape(), x.dtype(), x.device());
           if (needs[1]) dweight = Tensor::empty(weight.shape(), weight.dtype(), weight.device());
           if (needs[2]) dbias = Tensor::empty({adjoint.channels}, dy.dtype(), dy.device());
           if (ops::on_cuda("conv_transpose2d", dy)) {
             KILN_CUDA_KERNEL_CALL({
               if (needs[0]) {
                 kernels::cuda::conv_transpose2d_backward_data(dy.data<float>(), weight.data<float>(),
                                                               dx.data<float>(), batch, in_channels, adjoint);
               }
               if (needs[1]) {
                 const Tensor scratch = Tensor::empty(
                     {kernels::cuda::conv_transpose2d_backward_weight_scratch(batch, in_channels, adjoint)},
                     dy.dtype(), dy.device());
                 kernels::cuda::conv_transpose2d_backward_weight(x.data<float>(), dy.data<float>(),
                                                                 dweight.data<float>(), scratch.data<float>(), batch,
                                                                 in_channels, adjoint);
               }
               if (needs[2]) {
                 kernels::cuda::bias_add_backward(dy.data<float>(), dbias.data<float>(), batch, adjoint.channels,
                                                  adjoint.height * adjoint.width);
               }
             });
           } else {
             ops::dispatch_float("conv_transpose2d", dy, [&]<class T>() {
               if (needs[0]) {
                 kernels::cpu::conv_transpose2d_backward_data(dy.data<T>(), weight.data<T>(), dx.data<T>(), batch,
                                                              in_channels, adjoint);
               }
               if (needs[1]) {
                 kernels::cpu::conv_transpose2d_backward_weight(x.data<T>(), dy.data<T>(), dweight.data<T>(), batch,
                                                                in_channels, adjoint);
               }
               if (needs[2]) {
                 kernels::cpu::bias_add_backward(dy.data<T>(), dbias.data<T>(), batch, adjoint.channels,
                                                 adjoint.height * adjoint.width);
               }
             });
           }
           return Gradients{dx, dweight, dbias};
         });
  return y;
}

}  // namespace kiln
