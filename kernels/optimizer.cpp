// CPU optimiser updates, in double arithmetic per element.
#include "kernels/optimizer.h"

#include <cmath>

#include "kernels/parallel.h"

namespace kiln::kernels::cpu {
namespace {
constexpr std::int64_t grain = 1 << 14;
}

template <class T>
void adam_update(T* w, T* m, T* v, const T* g, std::int64_t n, const AdamStep& step) {
  parallel_for(0, n, grain, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const double gradient = g[i] + step.l2 * w[i];
      const double first = step.beta1 * m[i] + (1 - step.beta1) * gradient;
      const double second = step.beta2 * v[i] + (1 - step.beta2) * gradient * gradient;
      m[i] = static_cast<T>(first);
      v[i] = static_cast<T>(second);
      w[i] = static_cast<T>(w[i] - step.step_size * first /
                                       (std::sqrt(second) * step.inverse_sqrt_correction2 + step.eps));
    }
  });
}

template <class T>
void sgd_update(T* w, T* velocity, const T* g, std::int64_t n, const SgdStep& step) {
  parallel_for(0, n, grain, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const double gradient = g[i] + step.l2 * w[i];
      double direction = gradient;
      if (velocity != nullptr) {
        const double updated = step.momentum * velocity[i] + gradient;
        velocity[i] = static_cast<T>(updated);
        direction = step.nesterov ? gradient + step.momentum * updated : updated;
      }
      w[i] = static_cast<T>(w[i] - step.lr * direction);
    }
  });
}

template void adam_update<float>(float*, float*, float*, const float*, std::int64_t, const AdamStep&);
template void adam_update<double>(double*, double*, double*, const double*, std::int64_t, const AdamStep&);
template void sgd_update<float>(float*, float*, const float*, std::int64_t, const SgdStep&);
template void sgd_update<double>(double*, double*, const double*, std::int64_t, const SgdStep&);

}  // namespace kiln::kernels::cpu
