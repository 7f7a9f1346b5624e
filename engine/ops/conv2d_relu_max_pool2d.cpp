// conv2d_relu_max_pool2d: conv2d's and the pool's argument checks, then the fused CPU kernels
// (kernels/conv2d_relu_max_pool2d), or on CUDA the two ops.
#include "engine/ops/conv2d.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/pool.h"
#include "kernels/conv2d_relu_max_pool2d.h"
#include "kiln/autograd.h"
#include "kiln/ops/fused.h"

namespace kiln {

Tensor conv2d_relu_max_pool2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& conv,
                              const Pool2dOptions& pool) {
  constexpr const char* op = "conv2d_relu_max_pool2d";
  const OpScope op_scope(op);
  const kernels::cpu::Conv2dGeometry geometry = ops::checked_conv2d_geometry(op, x, weight, bias, conv);
  const std::int64_t batch = x.size(0), out_channels = weight.size(0);
  const ops::PoolWindows windows = ops::checked_strided_pool_windows(
      op, {batch, out_channels, geometry.out_height(), geometry.out_width()}, pool);
  if (ops::on_cuda(op, x)) return relu_max_pool2d(conv2d(x, weight, bias, conv), pool);

  Tensor y = Tensor::empty({batch, out_channels, windows.rows.out_size(), windows.cols.out_size()}, x.dtype(),
                           x.device());
  const Tensor argmax = Tensor::empty(y.shape(), DType::i32, x.device());
  ops::dispatch_float(op, x, [&]<class T>() {
    kernels::cpu::conv2d_relu_max_pool2d_forward(x.data<T>(), weight.data<T>(),
                                                 bias.defined() ? bias.data<T>() : nullptr, y.data<T>(),
                                                 argmax.data<std::int32_t>(), batch, out_channels, geometry,
                                                 windows.rows, windows.cols);
  });
  record(y, op, {x, weight, bias},
         [x, weight, argmax, geometry, windows, batch, out_channels](const Tensor& dy, const GradientNeeds& needs) {
           const OpScope backward_scope(op, Pass::backward);
           Tensor dx, dbias;
           // The weight gradient comes with every pass: the kernel computes it on the way to the others.
           const Tensor dweight = Tensor::empty(weight.shape(), dy.dtype(), dy.device());
           if (needs[0]) dx = Tensor::empty(x.shape(), dy.dtype(), dy.device());
           if (needs[2]) dbias = Tensor::empty({out_channels}, dy.dtype(), dy.device());
           ops::dispatch_float(op, dy, [&]<class T>() {
             kernels::cpu::conv2d_relu_max_pool2d_backward(
                 x.data<T>(), weight.data<T>(), dy.data<T>(), argmax.data<std::int32_t>(),
                 needs[0] ? dx.data<T>() : nullptr, dweight.data<T>(), needs[2] ? dbias.data<T>() : nullptr, batch,
                 out_channels, geometry, windows.rows, windows.cols);
           });
           return Gradients{dx, needs[1] ? dweight : Tensor(), dbias};
         });
  return y;
}

}  // namespace kiln
