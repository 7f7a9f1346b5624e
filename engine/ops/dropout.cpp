// Inverted dropout: draws the mask from the generator's counters (kernels/dropout) and keeps it for the backward.
#include "kiln/ops/dropout.h"

#include <memory>
#include <vector>

#include "engine/ops/dispatch.h"
#include "kernels/dropout.h"
#include "kiln/autograd.h"

namespace kiln {

Tensor dropout(const Tensor& x, double p, bool training, Generator& generator) {
  KILN_CHECK(x.defined(), "dropout: undefined input");
  KILN_CHECK(p >= 0 && p < 1, "dropout: p must be in [0, 1), got ", p, " for input ", describe(x));
  if (!training || p == 0) return x;  // the identity, whose gradient passes straight through
  ops::require_cpu("dropout", x);
  const std::int64_t n = x.numel();
  auto mask = std::make_shared<std::vector<std::uint8_t>>(static_cast<std::size_t>(n));
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  ops::dispatch_float("dropout", x, [&]<class T>() {
    // Reserved only once the dtype is known good, so a rejected call leaves the generator untouched.
    const std::uint64_t first = generator.reserve(static_cast<std::uint64_t>(n));
    kernels::cpu::dropout_forward(x.data<T>(), y.data<T>(), mask->data(), n, generator.seed(), first, p);
  });
  record(y, "dropout", {x}, [mask, p](const Tensor& dy, const std::vector<bool>&) {
    Tensor dx = Tensor::empty(dy.shape(), dy.dtype(), dy.device());
    ops::dispatch_float("dropout", dy, [&]<class T>() {
      kernels::cpu::dropout_backward(dy.data<T>(), mask->data(), dx.data<T>(), dy.numel(), p);
    });
    return std::vector<Tensor>{dx};
  });
  return y;
}

}  // namespace kiln
