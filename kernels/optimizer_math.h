#pragma once
// The per-element Adam and SGD updates, shared by the CPU pass (Real = double) and the CUDA kernel (Real = float),
// so that the two differ only in the arithmetic type.
#include <cmath>
#include <cstdint>

#include "kernels/host_device.h"
#include "kernels/optimizer.h"

namespace kiln::kernels {

// A step's scalars, converted once to the arithmetic type.
template <class R>
struct AdamScalars {
  using Real = R;
  Real beta1, beta2, eps, step_size, inverse_sqrt_correction2;
  explicit AdamScalars(const AdamStep& step)
      : beta1(static_cast<Real>(step.beta1)),
        beta2(static_cast<Real>(step.beta2)),
        eps(static_cast<Real>(step.eps)),
        step_size(static_cast<Real>(step.step_size)),
        inverse_sqrt_correction2(static_cast<Real>(step.inverse_sqrt_correction2)) {}
};

template <class R>
struct SgdScalars {
  using Real = R;
  Real lr, momentum;
  bool nesterov;
  explicit SgdScalars(const SgdStep& step)
      : lr(static_cast<Real>(step.lr)), momentum(static_cast<Real>(step.momentum)), nesterov(step.nesterov) {}
};

KILN_HOST_DEVICE inline float square_root(float x) { return sqrtf(x); }
KILN_HOST_DEVICE inline double square_root(double x) { return sqrt(x); }

// Element i of a parameter; l2 is the slot's factor in the arithmetic type.
template <class T, class Real>
KILN_HOST_DEVICE inline void update_element(const AdamSlot<T>& p, std::int64_t i, Real l2,
                                            const AdamScalars<Real>& s) {
  const Real gradient = p.g[i] + l2 * p.w[i];
  const Real first = s.beta1 * p.m[i] + (Real(1) - s.beta1) * gradient;
  const Real second = s.beta2 * p.v[i] + (Real(1) - s.beta2) * gradient * gradient;
  p.m[i] = static_cast<T>(first);
  p.v[i] = static_cast<T>(second);
  p.w[i] = static_cast<T>(p.w[i] - s.step_size * first / (square_root(second) * s.inverse_sqrt_correction2 + s.eps));
}

template <class T, class Real>
KILN_HOST_DEVICE inline void update_element(const SgdSlot<T>& p, std::int64_t i, Real l2, const SgdScalars<Real>& s) {
  const Real gradient = p.g[i] + l2 * p.w[i];
  Real direction = gradient;
  if (p.velocity != nullptr) {
    const Real updated = s.momentum * p.velocity[i] + gradient;
    p.velocity[i] = static_cast<T>(updated);
    direction = s.nesterov ? gradient + s.momentum * updated : updated;
  }
  p.w[i] = static_cast<T>(p.w[i] - s.lr * direction);
}

}  // namespace kiln::kernels
