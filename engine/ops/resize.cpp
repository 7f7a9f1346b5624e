// Bilinear resizing: argument checks, per-axis sampling (kernels/resize), backward spreading dy with the same weights.
#include "kiln/ops/resize.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/ops/dispatch.h"
#include "kernels/resize.h"
#include "kiln/autograd.h"

namespace kiln {

Tensor resize_bilinear(const Tensor& x, std::int64_t out_h, std::int64_t out_w, ResizeMode mode) {
  const OpScope op_scope("resize_bilinear");
  ops::check_rank("resize_bilinear", "x", x, 4);
  const std::int64_t in_h = x.size(2), in_w = x.size(3), planes = x.size(0) * x.size(1);
  KILN_CHECK(in_h > 0 && in_w > 0, "resize_bilinear: input ", shape_str(x.shape()), " has no spatial extent");
  KILN_CHECK(out_h > 0 && out_w > 0, "resize_bilinear: output size ", out_h, "x", out_w, " must be positive (input ",
             shape_str(x.shape()), ")");
  Tensor y = Tensor::empty({x.size(0), x.size(1), out_h, out_w}, x.dtype(), x.device());
  const bool cuda = ops::on_cuda("resize_bilinear", x);
  if (cuda) {
    // The CUDA kernels take the sampling as device tables (int32 indices), built once for forward and backward.
    constexpr std::int64_t int32_max = std::numeric_limits<std::int32_t>::max();
    KILN_CHECK(std::max({in_h, in_w, out_h, out_w}) <= int32_max, "resize_bilinear: sizes ", shape_str(x.shape()),
               " -> ", out_h, "x", out_w, " are too large for the CUDA kernels");
    const auto rows = kernels::cpu::resize_axis<float>(in_h, out_h, mode);
    const auto cols = kernels::cpu::resize_axis<float>(in_w, out_w, mode);
    const std::vector<std::int32_t> indices = kernels::cuda::resize_index_table(rows, cols);
    const std::vector<float> fracs = kernels::cuda::resize_frac_table(rows, cols);
    const Tensor index_table =
        Tensor::from_vector(indices, {static_cast<std::int64_t>(indices.size())}, x.device());
    const Tensor frac_table = Tensor::from_vector(fracs, {static_cast<std::int64_t>(fracs.size())}, x.device());
    KILN_CUDA_KERNEL_CALL(kernels::cuda::resize_bilinear_forward(x.data<float>(), y.data<float>(), planes, rows, cols,
                                                                 index_table.data<std::int32_t>(),
                                                                 frac_table.data<float>()));
    record(y, "resize_bilinear", {x},
           [=, input_shape = x.shape()](const Tensor& dy, const GradientNeeds&) {
             const OpScope backward_scope("resize_bilinear", Pass::backward);
             Tensor dx = Tensor::empty(input_shape, dy.dtype(), dy.device());
             KILN_CUDA_KERNEL_CALL(kernels::cuda::resize_bilinear_backward(
                 dy.data<float>(), dx.data<float>(), planes, rows, cols, index_table.data<std::int32_t>(),
                 frac_table.data<float>()));
             return Gradients{dx};
           });
    return y;
  }
  ops::dispatch_float("resize_bilinear", x, [&]<class T>() {
    kernels::cpu::resize_bilinear_forward(x.data<T>(), y.data<T>(), planes,
                                          kernels::cpu::resize_axis<T>(in_h, out_h, mode),
                                          kernels::cpu::resize_axis<T>(in_w, out_w, mode));
  });
  record(y, "resize_bilinear", {x}, [=, input_shape = x.shape()](const Tensor& dy, const GradientNeeds&) {
    const OpScope backward_scope("resize_bilinear", Pass::backward);
    Tensor dx = Tensor::empty(input_shape, dy.dtype(), dy.device());
    ops::dispatch_float("resize_bilinear", dy, [&]<class T>() {
      kernels::cpu::resize_bilinear_backward(dy.data<T>(), dx.data<T>(), planes,
                                             kernels::cpu::resize_axis<T>(in_h, out_h, mode),
                                             kernels::cpu::resize_axis<T>(in_w, out_w, mode));
    });
    return Gradients{dx};
  });
  return y;
}

}  // namespace kiln
