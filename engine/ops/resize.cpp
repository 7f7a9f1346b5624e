// Bilinear resizing: argument checks, per-axis sampling (kernels/resize), backward scattering with the same weights.
#include "kiln/ops/resize.h"

#include "engine/ops/dispatch.h"
#include "kernels/resize.h"
#include "kiln/autograd.h"

namespace kiln {

Tensor resize_bilinear(const Tensor& x, std::int64_t out_h, std::int64_t out_w, ResizeMode mode) {
  ops::check_rank("resize_bilinear", "x", x, 4);
  ops::require_cpu("resize_bilinear", x);
  const std::int64_t in_h = x.size(2), in_w = x.size(3), planes = x.size(0) * x.size(1);
  KILN_CHECK(in_h > 0 && in_w > 0, "resize_bilinear: input ", shape_str(x.shape()), " has no spatial extent");
  KILN_CHECK(out_h > 0 && out_w > 0, "resize_bilinear: output size ", out_h, "x", out_w, " must be positive (input ",
             shape_str(x.shape()), ")");
  Tensor y = Tensor::empty({x.size(0), x.size(1), out_h, out_w}, x.dtype(), x.device());
  ops::dispatch_float("resize_bilinear", x, [&]<class T>() {
    kernels::cpu::resize_bilinear_forward(x.data<T>(), y.data<T>(), planes,
                                          kernels::cpu::resize_axis<T>(in_h, out_h, mode),
                                          kernels::cpu::resize_axis<T>(in_w, out_w, mode));
  });
  record(y, "resize_bilinear", {x}, [=, input_shape = x.shape()](const Tensor& dy, const std::vector<bool>&) {
    Tensor dx = Tensor::empty(input_shape, dy.dtype(), dy.device());
    ops::dispatch_float("resize_bilinear", dy, [&]<class T>() {
      kernels::cpu::resize_bilinear_backward(dy.data<T>(), dx.data<T>(), planes,
                                             kernels::cpu::resize_axis<T>(in_h, out_h, mode),
                                             kernels::cpu::resize_axis<T>(in_w, out_w, mode));
    });
    return std::vector<Tensor>{dx};
  });
  return y;
}

}  // namespace kiln
