// Elementwise ops: shape checks, dispatch to kernels/elementwise, backward formulas.
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
  ops::require_cpu(op, a);
}

// y = f(x) where the backward needs x: f_forward(x, y, n), f_backward(x, dy, dx, n).
template <class Forward, class Backward>
Tensor unary_with_input(const char* op, const Tensor& x, Forward forward, Backward backward) {
  KILN_CHECK(x.defined(), op, ": undefined input");
  ops::require_cpu(op, x);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  ops::dispatch_float(op, x, [&]<class T>() { forward(x.data<T>(), y.data<T>(), x.numel()); });
  record(y, op, {x}, [x, op, backward](const Tensor& dy, const std::vector<bool>&) {
    Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
    ops::dispatch_float(op, x, [&]<class T>() { backward(x.data<T>(), dy.data<T>(), dx.data<T>(), x.numel()); });
    return std::vector<Tensor>{dx};
  });
  return y;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  check_same_shape("add", a, b);
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  ops::dispatch_float("add", a, [&]<class T>() { kernels::cpu::add(a.data<T>(), b.data<T>(), out.data<T>(), a.numel()); });
  record(out, "add", {a, b}, [](const Tensor& grad, const std::vector<bool>&) {
    return std::vector<Tensor>{grad, grad};
  });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  check_same_shape("mul", a, b);
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  ops::dispatch_float("mul", a, [&]<class T>() { kernels::cpu::mul(a.data<T>(), b.data<T>(), out.data<T>(), a.numel()); });
  record(out, "mul", {a, b}, [a, b](const Tensor& grad, const std::vector<bool>& needs) {
    return std::vector<Tensor>{needs[0] ? mul(grad, b) : Tensor(), needs[1] ? mul(grad, a) : Tensor()};
  });
  return out;
}

Tensor scale(const Tensor& x, double factor) {
  KILN_CHECK(x.defined(), "scale: undefined input");
  ops::require_cpu("scale", x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  ops::dispatch_float("scale", x, [&]<class T>() {
    kernels::cpu::scale(x.data<T>(), static_cast<T>(factor), out.data<T>(), x.numel());
  });
  record(out, "scale", {x}, [factor](const Tensor& grad, const std::vector<bool>&) {
    return std::vector<Tensor>{scale(grad, factor)};
  });
  return out;
}

Tensor relu(const Tensor& x) {
  return unary_with_input(
      "relu", x, []<class T>(const T* in, T* out, std::int64_t n) { kernels::cpu::relu_forward(in, out, n); },
      []<class T>(const T* in, const T* dy, T* dx, std::int64_t n) { kernels::cpu::relu_backward(in, dy, dx, n); });
}

Tensor relu6(const Tensor& x) {
  return unary_with_input(
      "relu6", x, []<class T>(const T* in, T* out, std::int64_t n) { kernels::cpu::relu6_forward(in, out, n); },
      []<class T>(const T* in, const T* dy, T* dx, std::int64_t n) { kernels::cpu::relu6_backward(in, dy, dx, n); });
}

Tensor bias_add(const Tensor& x, const Tensor& bias) {
  KILN_CHECK(x.defined() && x.dim() >= 2, "bias_add: x must be [N, C, ...], got ", describe(x));
  ops::check_rank("bias_add", "bias", bias, 1);
  KILN_CHECK(bias.size(0) == x.size(1), "bias_add: bias ", shape_str(bias.shape()), " does not match the ",
             x.size(1), " channels of x ", shape_str(x.shape()));
  ops::check_same_device_dtype("bias_add", {&x, &bias});
  ops::require_cpu("bias_add", x);
  const std::int64_t outer = x.size(0), channels = x.size(1), inner = x.numel() / std::max<std::int64_t>(1, outer * channels);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  ops::dispatch_float("bias_add", x, [&]<class T>() {
    kernels::cpu::bias_add_forward(x.data<T>(), bias.data<T>(), y.data<T>(), outer, channels, inner);
  });
  const Shape bias_shape = bias.shape();
  record(y, "bias_add", {x, bias}, [=](const Tensor& dy, const std::vector<bool>& needs) {
    Tensor dbias;
    if (needs[1]) {
      dbias = Tensor::empty(bias_shape, dy.dtype(), dy.device());
      ops::dispatch_float("bias_add", dy, [&]<class T>() {
        kernels::cpu::bias_add_backward(dy.data<T>(), dbias.data<T>(), outer, channels, inner);
      });
    }
    return std::vector<Tensor>{dy, dbias};
  });
  return y;
}

}  // namespace kiln
