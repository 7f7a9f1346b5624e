// conv2d: shape checks, dispatch to kernels/conv2d (CPU, or on CUDA kiln's kernels or cuDNN as selected in
// kiln/backend.h), backward through the same kernels.
#include "kiln/ops/conv.h"

#include "engine/ops/conv2d.h"
#include "engine/ops/dispatch.h"
#include "kernels/conv2d.h"
#include "kernels/elementwise.h"
#include "kiln/autograd.h"
#include "kiln/backend.h"

namespace kiln {

namespace ops {

kernels::cpu::Conv2dGeometry checked_conv2d_geometry(const char* op, const Tensor& x, const Tensor& weight,
                                                     const Tensor& bias, const Conv2dOptions& options) {
  ops::check_rank(op, "input", x, 4);
  ops::check_rank(op, "weight", weight, 4);
  const std::int64_t out_channels = weight.size(0);
  KILN_CHECK(x.size(1) == weight.size(1), op, ": input ", shape_str(x.shape()), " has ", x.size(1),
             " channels but weight ", shape_str(weight.shape()), " expects ", weight.size(1));
  KILN_CHECK(options.stride_h > 0 && options.stride_w > 0 && options.pad_h >= 0 && options.pad_w >= 0, op,
             ": stride must be positive and padding non-negative, got stride (", options.stride_h, ", ",
             options.stride_w, ") and padding (", options.pad_h, ", ", options.pad_w, ")");
  KILN_CHECK(x.size(2) + 2 * options.pad_h >= weight.size(2) && x.size(3) + 2 * options.pad_w >= weight.size(3), op,
             ": output size would be <= 0: input ", shape_str(x.shape()), " with padding (", options.pad_h, ", ",
             options.pad_w, ") is smaller than the kernel of weight ", shape_str(weight.shape()));
  if (bias.defined()) {
    ops::check_rank(op, "bias", bias, 1);
    KILN_CHECK(bias.size(0) == out_channels, op, ": bias ", shape_str(bias.shape()), " does not match the ",
               out_channels, " output channels of weight ", shape_str(weight.shape()));
  }
  ops::check_same_device_dtype(op, {&x, &weight, &bias});
  return {x.size(1),        x.size(2),        x.size(3),     weight.size(2), weight.size(3),
          options.stride_h, options.stride_w, options.pad_h, options.pad_w};
}

}  // namespace ops

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& options) {
  const OpScope op_scope("conv2d");
  const kernels::cpu::Conv2dGeometry geometry = ops::checked_conv2d_geometry("conv2d", x, weight, bias, options);
  const std::int64_t batch = x.size(0), out_channels = weight.size(0);
  Tensor y = Tensor::empty({batch, out_channels, geometry.out_height(), geometry.out_width()}, x.dtype(), x.device());
  // The backward takes the forward's path (the selection may change in between).
  const ConvBackend backend = conv_backend();
  if (ops::on_cuda("conv2d", x)) {
    [[maybe_unused]] const float* bias_data = bias.defined() ? bias.data<float>() : nullptr;
    if (backend == ConvBackend::cudnn) {
      KILN_LIBRARY_CALL(kernels::cudnn::conv2d_forward(x.device().index, x.data<float>(), weight.data<float>(),
                                                       bias_data, y.data<float>(), batch, out_channels, geometry));
    } else {
      KILN_CUDA_KERNEL_CALL(kernels::cuda::conv2d_forward(x.data<float>(), weight.data<float>(), bias_data,
                                                          y.data<float>(), batch, out_channels, geometry));
    }
  } else {
    ops::dispatch_float("conv2d", x, [&]<class T>() {
      kernels::cpu::conv2d_forward(x.data<T>(), weight.data<T>(), bias.defined() ? bias.data<T>() : nullptr,
                                   y.data<T>(), batch, out_channels, geometry);
    });
  }
  record(y, "conv2d", {x, weight, bias},
         [x, weight, geometry, batch, out_channels, backend](const Tensor& dy, const GradientNeeds& needs) {
           const OpScope backward_scope("conv2d", Pass::backward);
           Tensor dx, dweight, dbias;
           if (needs[0]) dx = Tensor::empty(x.shape(), x.dtype(), x.device());
           if (needs[1]) dweight = Tensor::empty(weight.shape(), weight.dtype(), weight.device());
           if (needs[2]) dbias = Tensor::empty({out_channels}, dy.dtype(), dy.device());
           if (ops::on_cuda("conv2d", dy)) {
             if (backend == ConvBackend::cudnn) {
               KILN_LIBRARY_CALL({
                 if (needs[0]) {
                   kernels::cudnn::conv2d_backward_data(dy.device().index, dy.data<float>(), weight.data<float>(),
                                                        dx.data<float>(), batch, out_channels, geometry);
                 }
                 if (needs[1]) {
                   kernels::cudnn::conv2d_backward_weight(dy.device().index, x.data<float>(), dy.data<float>(),
                                                          dweight.data<float>(), batch, out_channels, geometry);
                 }
               });
             } else {
               KILN_CUDA_KERNEL_CALL({
                 if (needs[0]) {
                   kernels::cuda::conv2d_backward_data(dy.data<float>(), weight.data<float>(), dx.data<float>(),
                                                       batch, out_channels, geometry);
                 }
                 if (needs[1]) {
                   const Tensor scratch = Tensor::empty(
                       {kernels::cuda::conv2d_backward_weight_scratch(batch, out_channels, geometry)}, dy.dtype(),
                       dy.device());
                   kernels::cuda::conv2d_backward_weight(x.data<float>(), dy.data<float>(), dweight.data<float>(),
                                                         scratch.data<float>(), batch, out_channels, geometry);
                 }
               });
             }
             // Both paths take kiln's column sum for the bias: deterministic, and no slower than cuDNN's.
             if (needs[2]) {
               KILN_CUDA_KERNEL_CALL(kernels::cuda::bias_add_backward(dy.data<float>(), dbias.data<float>(), batch,
                                                                      out_channels, geometry.column_cols()));
             }
           } else {
             ops::dispatch_float("conv2d", dy, [&]<class T>() {
               if (needs[0]) {
                 kernels::cpu::conv2d_backward_data(dy.data<T>(), weight.data<T>(), dx.data<T>(), batch,
                                                    out_channels, geometry);
               }
               if (needs[1]) {
                 kernels::cpu::conv2d_backward_weight(x.data<T>(), dy.data<T>(), dweight.data<T>(), batch,
                                                      out_channels, geometry);
               }
               if (needs[2]) {
                 kernels::cpu::bias_add_backward(dy.data<T>(), dbias.data<T>(), batch, out_channels,
                                                 geometry.column_cols());
               }
             });
           }
           return Gradients{dx, dweight, dbias};
         });
  return y;
}

}  // namespace kiln
