// CPU dropout: one Philox draw per element, split over threads (the mask does not depend on the split).
#include "kernels/dropout.h"

#include "kernels/parallel.h"
#include "kernels/philox.h"

namespace kiln::kernels::cpu {
namespace {
constexpr std::int64_t grain = 1 << 13;  // a Philox draw is ~10 rounds, so threads pay off sooner than for an add
}

template <class T>
void dropout_forward(const T* x, T* y, std::uint8_t* mask, std::int64_t n, std::uint64_t seed, std::uint64_t first,
                     double p) {
  const T keep_scale = static_cast<T>(1.0 / (1.0 - p));
  parallel_for(0, n, grain, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const bool keep = static_cast<double>(philox_uniform(seed, first + static_cast<std::uint64_t>(i))) >= p;
      mask[i] = keep ? 1 : 0;
      y[i] = keep ? x[i] * keep_scale : T(0);
    }
  });
}

template <class T>
void dropout_backward(const T* dy, const std::uint8_t* mask, T* dx, std::int64_t n, double p) {
  const T keep_scale = static_cast<T>(1.0 / (1.0 - p));
  parallel_for(0, n, grain, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) dx[i] = mask[i] != 0 ? dy[i] * keep_scale : T(0);
  });
}

#define KILN_INSTANTIATE(T)                                                                                  \
  template void dropout_forward<T>(const T*, T*, std::uint8_t*, std::int64_t, std::uint64_t, std::uint64_t, \
                                   double);                                                                 \
  template void dropout_backward<T>(const T*, const std::uint8_t*, T*, std::int64_t, double);
KILN_INSTANTIATE(float)
KILN_INSTANTIATE(double)
#undef KILN_INSTANTIATE

}  // namespace kiln::kernels::cpu
