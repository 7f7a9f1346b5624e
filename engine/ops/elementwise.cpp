// Elementwise ops: shape checks, dispatch to kernels/elementwise (CPU or CUDA), backward formulas.
#include "kiln/ops/elementwise.h"

#include "engine/ops/dispatch.h"
#include "kernels/elementwise.h"
#include "kiln/autograd.h"

namespace kiln {
namespace {

void check_same_shape(std::string_view op, const Tensor& a, const Tensor& b) {
  KILN_CHECK(a.defined() && b.defined(), op, ": undefined input");
  KILN_CHECK(a.shape() == b.shape(), op, ": shapes differ: ", shape_str(a.shape()), " and ", shape_str(b.shape()));
  ops::check_same_device_dtype(op, {&a, &b});
}

// The CPU and CUDA kernels of one activation.
struct ActivationKernels {
  void (*cpu_forward_f32)(const float*, float*, std::int64_t);
  void (*cpu_forward_f64)(const double*, double*, std::int64_t);
  void (*cpu_backward_f32)(const float*, const float*, float*, std::int64_t);
  void (*cpu_backward_f64)(const double*, const double*, double*, std::int64_t);
  void (*cuda_forward)(const float*, float*, std::int64_t);
  void (*cuda_backward)(const float*, const float*, float*, std::int64_t);
};

// y = f(x) where the backward needs x.
Tensor activation(const char* op, const Tensor& x, const ActivationKernels& kernels) {
  const OpScope op_scope(op);
  KILN_CHECK(x.defined(), op, ": undefined input");
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (ops::on_cuda(op, x)) {
    KILN_CUDA_KERNEL_CALL(kernels.cuda_forward(x.data<float>(), y.data<float>(), x.numel()));
  } else if (x.dtype() == DType::f64) {
    kernels.cpu_forward_f64(x.data<double>(), y.data<double>(), x.numel());
  } else {
    kernels.cpu_forward_f32(x.data<float>(), y.data<float>(), x.numel());
  }
  record(y, op, {x}, [x, op, kernels](const Tensor& dy, const GradientNeeds&) {
    const OpScope backward_scope(op, Pass::backward);
    Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
    if (ops::on_cuda(op, x)) {
      KILN_CUDA_KERNEL_CALL(kernels.cuda_backward(x.data<float>(), dy.data<float>(), dx.data<float>(), x.numel()));
    } else if (x.dtype() == DType::f64) {
      kernels.cpu_backward_f64(x.data<double>(), dy.data<double>(), dx.data<double>(), x.numel());
    } else {
      kernels.cpu_backward_f32(x.data<float>(), dy.data<float>(), dx.data<float>(), x.numel());
    }
    return Gradients{dx};
  });
  return y;
}

#if KILN_HAVE_CUDA_KERNELS
#define KILN_CUDA_KERNEL(name) &kernels::cuda::name
#else
#define KILN_CUDA_KERNEL(name) nullptr
#endif

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  const OpScope op_scope("add");
  check_same_shape("add", a, b);
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  if (ops::on_cuda("add", a)) {
    KILN_CUDA_KERNEL_CALL(kernels::cuda::add(a.data<float>(), b.data<float>(), out.data<float>(), a.numel()));
  } else {
    ops::dispatch_float("add", a, [&]<class T>() {
      kernels::cpu::add(a.data<T>(), b.data<T>(), out.data<T>(), a.numel());
    });
  }
  record(out, "add", {a, b}, [](const Tensor& grad, const GradientNeeds&) {
    return Gradients{grad, grad};
  });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  const OpScope op_scope("mul");
  check_same_shape("mul", a, b);
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  if (ops::on_cuda("mul", a)) {
    KILN_CUDA_KERNEL_CALL(kernels::cuda::mul(a.data<float>(), b.data<float>(), out.data<float>(), a.numel()));
  } else {
    ops::dispatch_float("mul", a, [&]<class T>() {
      kernels::cpu::mul(a.data<T>(), b.data<T>(), out.data<T>(), a.numel());
    });
  }
  record(out, "mul", {a, b}, [a, b](const Tensor& grad, const GradientNeeds& needs) {
    const OpScope backward_scope("mul", Pass::backward);
    return Gradients{needs[0] ? mul(grad, b) : Tensor(), needs[1] ? mul(grad, a) : Tensor()};
  });
  return out;
}

Tensor scale(const Tensor& x, double factor) {
  const OpScope op_scope("scale");
  KILN_CHECK(x.defined(), "scale: undefined input");
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (ops::on_cuda("scale", x)) {
    KILN_CUDA_KERNEL_CALL(
        kernels::cuda::scale(x.data<float>(), static_cast<float>(factor), out.data<float>(), x.numel()));
  } else {
    ops::dispatch_float("scale", x, [&]<class T>() {
      kernels::cpu::scale(x.data<T>(), static_cast<T>(factor), out.data<T>(), x.numel());
    });
  }
  record(out, "scale", {x}, [factor](const Tensor& grad, const GradientNeeds&) {
    const OpScope backward_scope("scale", Pass::backward);
    return Gradients{scale(grad, factor)};
  });
  return out;
}

Tensor relu(const Tensor& x) {
  static const ActivationKernels kernels_of_relu{
      &kernels::cpu::relu_forward<float>,  &kernels::cpu::relu_forward<double>,
      &kernels::cpu::relu_backward<float>, &kernels::cpu::relu_backward<double>,
      KILN_CUDA_KERNEL(relu_forward),      KILN_CUDA_KERNEL(relu_backward)};
  return activation("relu", x, kernels_of_relu);
}

Tensor relu6(const Tensor& x) {
  static const ActivationKernels kernels_of_relu6{
      &kernels::cpu::relu6_forward<float>,  &kernels::cpu::relu6_forward<double>,
      &kernels::cpu::relu6_backward<float>, &kernels::cpu::relu6_backward<double>,
      KILN_CUDA_KERNEL(relu6_forward),      KILN_CUDA_KERNEL(relu6_backward)};
  return activation("relu6", x, kernels_of_relu6);
}

Tensor bias_add(const Tensor& x, const Tensor& bias) {
  const OpScope op_scope("bias_add");
  KILN_CHECK(x.defined() && x.dim() >= 2, "bias_add: x must be [N, C, ...], got ", describe(x));
  ops::check_rank("bias_add", "bias", bias, 1);
  KILN_CHECK(bias.size(0) == x.size(1), "bias_add: bias ", shape_str(bias.shape()), " does not match the ",
             x.size(1), " channels of x ", shape_str(x.shape()));
  ops::check_same_device_dtype("bias_add", {&x, &bias});
  const std::int64_t outer = x.size(0), channels = x.size(1);
  const std::int64_t inner = x.numel() / std::max<std::int64_t>(1, outer * channels);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (ops::on_cuda("bias_add", x)) {
    KILN_CUDA_KERNEL_CALL(kernels::cuda::bias_add_forward(x.data<float>(), bias.data<float>(), y.data<float>(), outer,
                                                          channels, inner));
  } else {
    ops::dispatch_float("bias_add", x, [&]<class T>() {
      kernels::cpu::bias_add_forward(x.data<T>(), bias.data<T>(), y.data<T>(), outer, channels, inner);
    });
  }
  const Shape bias_shape = bias.shape();
  record(y, "bias_add", {x, bias}, [=](const Tensor& dy, const GradientNeeds& needs) {
    const OpScope backward_scope("bias_add", Pass::backward);
    Tensor dbias;
    if (needs[1]) {
      dbias = Tensor::empty(bias_shape, dy.dtype(), dy.device());
      if (ops::on_cuda("bias_add", dy)) {
        KILN_CUDA_KERNEL_CALL(
            kernels::cuda::bias_add_backward(dy.data<float>(), dbias.data<float>(), outer, channels, inner));
      } else {
        ops::dispatch_float("bias_add", dy, [&]<class T>() {
          kernels::cpu::bias_add_backward(dy.data<T>(), dbias.data<T>(), outer, channels, inner);
        });
      }
    }
    return Gradients{dy, dbias};
  });
  return y;
}

}  // namespace kiln
