// Inverted dropout: draws the mask from the generator's counters (kernels/dropout) and keeps it for the backward.
#include "kiln/ops/dropout.h"

#include <memory>
#include <vector>

#include "engine/ops/dispatch.h"
#include "kernels/dropout.h"
#include "kiln/autograd.h"

namespace kiln {

Tensor dropout(const Tensor& x, double p, bool training, Generator& generator) {
  const OpScope op_scope("dropout");
  KILN_CHECK(x.defined(), "dropout: undefined input");
  KILN_CHECK(p >= 0 && p < 1, "dropout: p must be in [0, 1), got ", p, " for input ", describe(x));
  if (!training || p == 0) return x;  // the identity, whose gradient passes straight through
  const bool cuda = ops::on_cuda("dropout", x);
  const std::int64_t n = x.numel();
  // One byte per element, on x's device.
  auto mask = make_pooled<Storage>(static_cast<std::size_t>(n), x.device());
  auto* mask_bytes = static_cast<std::uint8_t*>(mask->data());
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (cuda) {
    KILN_CUDA_KERNEL_CALL({
      const std::uint64_t first = generator.reserve(static_cast<std::uint64_t>(n));
      kernels::cuda::dropout_forward(x.data<float>(), y.data<float>(), mask_bytes, n, generator.seed(), first, p);
    });
  } else {
    ops::dispatch_float("dropout", x, [&]<class T>() {
      // Reserved only once the dtype is known good, so a rejected call leaves the generator untouched.
      const std::uint64_t first = generator.reserve(static_cast<std::uint64_t>(n));
      kernels::cpu::dropout_forward(x.data<T>(), y.data<T>(), mask_bytes, n, generator.seed(), first, p);
    });
  }
  record(y, "dropout", {x}, [mask, p, cuda](const Tensor& dy, const GradientNeeds&) {
    const OpScope backward_scope("dropout", Pass::backward);
    const auto* kept = static_cast<const std::uint8_t*>(mask->data());
    Tensor dx = Tensor::empty(dy.shape(), dy.dtype(), dy.device());
    if (cuda) {
      KILN_CUDA_KERNEL_CALL(kernels::cuda::dropout_backward(dy.data<float>(), kept, dx.data<float>(),
                                                            dy.numel(), p));
    } else {
      ops::dispatch_float("dropout", dy, [&]<class T>() {
        kernels::cpu::dropout_backward(dy.data<T>(), kept, dx.data<T>(), dy.numel(), p);
      });
    }
    return Gradients{dx};
  });
  return y;
}

}  // namespace kiln
