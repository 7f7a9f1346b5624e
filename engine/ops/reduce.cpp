#include "kiln/ops/reduce.h"

#include "engine/ops/dispatch.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "kiln/autograd.h"

namespace kiln {
namespace {

Tensor sum_scaled(const char* op, const Tensor& x, double factor) {
  const OpScope op_scope(op);
  KILN_CHECK(x.defined(), op, ": undefined input");
  Tensor out = Tensor::empty({}, x.dtype(), x.device());
  if (ops::on_cuda(op, x)) {
    KILN_CUDA_KERNEL_CALL({
      const Tensor partials = Tensor::empty({kernels::cuda::sum_partials}, x.dtype(), x.device());
      kernels::cuda::sum(x.data<float>(), x.numel(), partials.data<float>(), out.data<float>());
      if (factor != 1.0) kernels::cuda::scale(out.data<float>(), static_cast<float>(factor), out.data<float>(), 1);
    });
  } else {
    ops::dispatch_float(op, x, [&]<class T>() {
      *out.data<T>() = static_cast<T>(static_cast<double>(kernels::cpu::sum(x.data<T>(), x.numel())) * factor);
    });
  }
  const Shape shape = x.shape();
  record(out, op, {x}, [op, shape, factor](const Tensor& grad, const GradientNeeds&) {
    const OpScope backward_scope(op, Pass::backward);
    // A kernel reads the upstream gradient where it lives: no read from a CUDA device.
    Tensor dx = Tensor::empty(shape, grad.dtype(), grad.device());
    if (ops::on_cuda(op, grad)) {
      KILN_CUDA_KERNEL_CALL(kernels::cuda::broadcast_scaled(grad.data<float>(), factor, dx.data<float>(), dx.numel()));
    } else {
      ops::dispatch_float(op, grad, [&]<class T>() {
        kernels::cpu::broadcast_scaled(grad.data<T>(), factor, dx.data<T>(), dx.numel());
      });
    }
    return Gradients{dx};
  });
  return out;
}

}  // namespace

Tensor sum(const Tensor& x) { return sum_scaled("sum", x, 1.0); }

Tensor mean(const Tensor& x) {
  KILN_CHECK(x.defined() && x.numel() > 0, "mean: input is empty (", describe(x), ")");
  return sum_scaled("mean", x, 1.0 / static_cast<double>(x.numel()));
}

}  // namespace kiln
