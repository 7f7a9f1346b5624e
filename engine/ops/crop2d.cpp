// crop2d: window checks, a copy of the window (kernels/crop2d), backward the gradient placed in zeros.
#include "kiln/ops/shape_ops.h"

#include <sstream>
#include <string>

#include "engine/ops/dispatch.h"
#include "kernels/crop2d.h"
#include "kiln/autograd.h"

namespace kiln {

namespace {

// Every message names the window and the input, so that a misaligned skip connection is easy to place.
std::string window_str(const Shape& in_shape, std::int64_t top, std::int64_t left, std::int64_t height,
                       std::int64_t width) {
  std::ostringstream text;
  text << "the window (top " << top << ", left " << left << ", height " << height << ", width " << width
       << ") of the input " << shape_str(in_shape);
  return text.str();
}

// The forward copy of the window from x into y, or the backward placing of dy into dx's zeros.
void run_kernel(bool backward, const Tensor& from, const Tensor& to, const kernels::Crop2dWindow& window) {
  if (ops::on_cuda("crop2d", from)) {
    KILN_CUDA_KERNEL_CALL(backward ? kernels::cuda::crop2d_backward(from.data<float>(), to.data<float>(), window)
                                   : kernels::cuda::crop2d_forward(from.data<float>(), to.data<float>(), window));
    return;
  }
  ops::dispatch_float("crop2d", from, [&]<class T>() {
    if (backward) {
      kernels::cpu::crop2d_backward(from.data<T>(), to.data<T>(), window);
    } else {
      kernels::cpu::crop2d_forward(from.data<T>(), to.data<T>(), window);
    }
  });
}

}  // namespace

Tensor crop2d(const Tensor& x, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width) {
  const OpScope op_scope("crop2d");
  KILN_CHECK(x.defined(), "crop2d: the input is undefined");
  const Shape& in_shape = x.shape();
  const auto where = [&] { return window_str(in_shape, top, left, height, width); };
  KILN_CHECK(x.dim() == 4, "crop2d: expected an NCHW input (rank 4) for ", where());
  KILN_CHECK(top >= 0 && left >= 0, "crop2d: negative offset in ", where());
  KILN_CHECK(height > 0 && width > 0, "crop2d: non-positive size in ", where());
  // Compared by subtraction, which cannot overflow here as top + height could.
  KILN_CHECK(top <= x.size(2) - height && left <= x.size(3) - width, "crop2d: ", where(), " does not fit");
  const kernels::Crop2dWindow window{.planes = x.size(0) * x.size(1),
                                     .in_height = x.size(2),
                                     .in_width = x.size(3),
                                     .top = top,
                                     .left = left,
                                     .height = height,
                                     .width = width};
  Tensor y = Tensor::empty({x.size(0), x.size(1), height, width}, x.dtype(), x.device());
  run_kernel(false, x, y, window);
  record(y, "crop2d", {x}, [window, in_shape](const Tensor& dy, const GradientNeeds&) {
    const OpScope backward_scope("crop2d", Pass::backward);
    const Tensor dx = Tensor::empty(in_shape, dy.dtype(), dy.device());
    run_kernel(true, dy, dx, window);
    return Gradients{dx};
  });
  return y;
}

}  // namespace kiln
