// Pooling ops: argument checks, window geometry (kernels/pool), backward through saved argmax or windows.
#include "kiln/ops/pool.h"

#include <cstdint>
#include <limits>
#include <vector>

#include "engine/ops/dispatch.h"
#include "engine/ops/pool.h"
#include "kernels/pool.h"
#include "kiln/autograd.h"

namespace kiln {

namespace {
// Windows and argmax offsets (< H * W) are kept in int32.
void check_planes(const char* op, const Shape& shape) {
  KILN_CHECK(shape[2] > 0 && shape[3] > 0, op, ": input ", shape_str(shape), " has no spatial extent");
  KILN_CHECK(shape[2] * shape[3] <= std::numeric_limits<std::int32_t>::max(), op, ": input planes of ", shape[2], "x",
             shape[3], " are too large (H * W must fit in int32)");
}
}  // namespace

namespace ops {

// PyTorch's conditions on kernel, stride and padding, plus a window that fits the padded input.
PoolWindows checked_strided_pool_windows(const char* op, const Shape& shape, const Pool2dOptions& options) {
  check_planes(op, shape);
  const auto input = [&shape] { return shape_str(shape); };  // formatted only for a message
  KILN_CHECK(options.kernel_h > 0 && options.kernel_w > 0 && options.stride_h > 0 && options.stride_w > 0, op,
             ": kernel ", options.kernel_h, "x", options.kernel_w, " and stride ", options.stride_h, "x",
             options.stride_w, " must be positive (input ", input(), ")");
  KILN_CHECK(options.pad_h >= 0 && options.pad_w >= 0 && options.pad_h <= options.kernel_h / 2 &&
                 options.pad_w <= options.kernel_w / 2,
             op, ": padding ", options.pad_h, "x", options.pad_w, " must lie between 0 and half the kernel ",
             options.kernel_h, "x", options.kernel_w, " (input ", input(), ")");
  const std::int64_t padded_h = shape[2] + 2 * options.pad_h, padded_w = shape[3] + 2 * options.pad_w;
  KILN_CHECK(options.kernel_h <= padded_h && options.kernel_w <= padded_w, op, ": pool window ", options.kernel_h,
             "x", options.kernel_w, " is larger than the padded input ", padded_h, "x", padded_w, " (input ",
             input(), ", padding ", options.pad_h, "x", options.pad_w, ")");
  KILN_CHECK(options.divisor_override >= 0, op, ": divisor_override must be 0 (off) or positive, got ",
             options.divisor_override);
  return {kernels::cpu::strided_pool_axis(shape[2], options.kernel_h, options.stride_h, options.pad_h,
                                          options.ceil_mode, options.count_include_pad),
          kernels::cpu::strided_pool_axis(shape[3], options.kernel_w, options.stride_w, options.pad_w,
                                          options.ceil_mode, options.count_include_pad)};
}

}  // namespace ops

namespace {

using kernels::cpu::PoolAxis;

void check_image(const char* op, const Tensor& x) {
  ops::check_rank(op, "x", x, 4);
  check_planes(op, x.shape());
}

// A strided pool's checked x and options, and its windows.
ops::PoolWindows strided_windows(const char* op, const Tensor& x, const Pool2dOptions& options) {
  check_image(op, x);
  return ops::checked_strided_pool_windows(op, x.shape(), options);
}

void check_output_size(const char* op, const Tensor& x, std::int64_t out_h, std::int64_t out_w) {
  KILN_CHECK(out_h > 0 && out_w > 0, op, ": output size ", out_h, "x", out_w, " must be positive (input ",
             shape_str(x.shape()), ")");
}

// The windows of both axes in device memory, for the CUDA kernels.
Tensor device_window_table(const PoolAxis& rows, const PoolAxis& cols, Device device) {
  const std::vector<std::int32_t> values = kernels::cuda::pool_window_table(rows, cols);
  return Tensor::from_vector(values, {static_cast<std::int64_t>(values.size())}, device);
}

// Max pooling of a checked x (of relu(x) with relu) over the given windows; the argmax of each output routes its
// gradient.
Tensor max_pool_over(const char* op, const Tensor& x, const PoolAxis& rows, const PoolAxis& cols, bool relu = false) {
  const OpScope op_scope(op);
  const std::int64_t planes = x.size(0) * x.size(1);
  Tensor y = Tensor::empty({x.size(0), x.size(1), rows.out_size(), cols.out_size()}, x.dtype(), x.device());
  // The winners' in-plane offsets route the gradient back; one int32 tensor on the input's device.
  const Tensor argmax = Tensor::empty(y.shape(), DType::i32, x.device());
  Tensor table;
  const bool cuda = ops::on_cuda(op, x);
  if (cuda) {
    table = device_window_table(rows, cols, x.device());
    KILN_CUDA_KERNEL_CALL(kernels::cuda::max_pool2d_forward(x.data<float>(), y.data<float>(),
                                                            argmax.data<std::int32_t>(), planes, rows, cols,
                                                            table.data<std::int32_t>(), relu));
  } else {
    ops::dispatch_float(op, x, [&]<class T>() {
      kernels::cpu::max_pool2d_forward(x.data<T>(), y.data<T>(), argmax.data<std::int32_t>(), planes, rows, cols,
                                       relu);
    });
  }
  const std::int64_t in_plane_size = x.size(2) * x.size(3), out_plane_size = y.size(2) * y.size(3);
  record(y, op, {x}, [=, input_shape = x.shape()](const Tensor& dy, const GradientNeeds&) {
    const OpScope backward_scope(op, Pass::backward);
    Tensor dx = Tensor::empty(input_shape, dy.dtype(), dy.device());
    if (cuda) {
      KILN_CUDA_KERNEL_CALL(kernels::cuda::max_pool2d_backward(dy.data<float>(), argmax.data<std::int32_t>(),
                                                               dx.data<float>(), planes, rows, cols,
                                                               table.data<std::int32_t>()));
    } else {
      ops::dispatch_float(op, dy, [&]<class T>() {
        kernels::cpu::max_pool2d_backward(dy.data<T>(), argmax.data<std::int32_t>(), dx.data<T>(), planes,
                                          in_plane_size, out_plane_size);
      });
    }
    return Gradients{dx};
  });
  return y;
}

// Average pooling of a checked x over the given windows.
Tensor avg_pool_over(const char* op, const Tensor& x, const PoolAxis& rows, const PoolAxis& cols,
                     std::int64_t divisor_override) {
  const OpScope op_scope(op);
  const std::int64_t planes = x.size(0) * x.size(1);
  Tensor y = Tensor::empty({x.size(0), x.size(1), rows.out_size(), cols.out_size()}, x.dtype(), x.device());
  Tensor table;
  const bool cuda = ops::on_cuda(op, x);
  if (cuda) {
    table = device_window_table(rows, cols, x.device());
    KILN_CUDA_KERNEL_CALL(kernels::cuda::avg_pool2d_forward(x.data<float>(), y.data<float>(), planes, rows, cols,
                                                            table.data<std::int32_t>(), divisor_override));
  } else {
    ops::dispatch_float(op, x, [&]<class T>() {
      kernels::cpu::avg_pool2d_forward(x.data<T>(), y.data<T>(), planes, rows, cols, divisor_override);
    });
  }
  record(y, op, {x}, [=, input_shape = x.shape()](const Tensor& dy, const GradientNeeds&) {
    const OpScope backward_scope(op, Pass::backward);
    Tensor dx = Tensor::empty(input_shape, dy.dtype(), dy.device());
    if (cuda) {
      KILN_CUDA_KERNEL_CALL(kernels::cuda::avg_pool2d_backward(dy.data<float>(), dx.data<float>(), planes, rows,
                                                               cols, table.data<std::int32_t>(),
                                                               divisor_override));
    } else {
      ops::dispatch_float(op, dy, [&]<class T>() {
        kernels::cpu::avg_pool2d_backward(dy.data<T>(), dx.data<T>(), planes, rows, cols, divisor_override);
      });
    }
    return Gradients{dx};
  });
  return y;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2dOptions& options) {
  const ops::PoolWindows windows = strided_windows("max_pool2d", x, options);
  return max_pool_over("max_pool2d", x, windows.rows, windows.cols);
}

Tensor relu_max_pool2d(const Tensor& x, const Pool2dOptions& options) {
  const ops::PoolWindows windows = strided_windows("relu_max_pool2d", x, options);
  return max_pool_over("relu_max_pool2d", x, windows.rows, windows.cols, true);
}

Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& options) {
  const ops::PoolWindows windows = strided_windows("avg_pool2d", x, options);
  return avg_pool_over("avg_pool2d", x, windows.rows, windows.cols, options.divisor_override);
}

Tensor adaptive_max_pool2d(const Tensor& x, std::int64_t out_h, std::int64_t out_w) {
  check_image("adaptive_max_pool2d", x);
  check_output_size("adaptive_max_pool2d", x, out_h, out_w);
  return max_pool_over("adaptive_max_pool2d", x, kernels::cpu::adaptive_pool_axis(x.size(2), out_h),
                       kernels::cpu::adaptive_pool_axis(x.size(3), out_w));
}

Tensor adaptive_avg_pool2d(const Tensor& x, std::int64_t out_h, std::int64_t out_w) {
  check_image("adaptive_avg_pool2d", x);
  check_output_size("adaptive_avg_pool2d", x, out_h, out_w);
  return avg_pool_over("adaptive_avg_pool2d", x, kernels::cpu::adaptive_pool_axis(x.size(2), out_h),
                       kernels::cpu::adaptive_pool_axis(x.size(3), out_w), 0);
}

Tensor global_avg_pool2d(const Tensor& x) {
  check_image("global_avg_pool2d", x);
  return avg_pool_over("global_avg_pool2d", x, kernels::cpu::adaptive_pool_axis(x.size(2), 1),
                       kernels::cpu::adaptive_pool_axis(x.size(3), 1), 0)
      .reshape({x.size(0), x.size(1)});
}

}  // namespace kiln
