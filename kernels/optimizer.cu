// CUDA optimiser updates: one thread per element, grid-stride, the same arithmetic as the CPU versions but in float.
#include "kernels/launch.h"
#include "kernels/optimizer.h"

namespace kiln::kernels::cuda {
namespace {

__global__ void adam_update_kernel(float* w, float* m, float* v, const float* g, std::int64_t n, float beta1,
                                   float beta2, float eps, float step_size, float inverse_sqrt_correction2, float l2) {
  KILN_GRID_STRIDE_LOOP(i, n) {
    const float gradient = g[i] + l2 * w[i];
    const float first = beta1 * m[i] + (1.0f - beta1) * gradient;
    const float second = beta2 * v[i] + (1.0f - beta2) * gradient * gradient;
    m[i] = first;
    v[i] = second;
    w[i] -= step_size * first / (sqrtf(second) * inverse_sqrt_correction2 + eps);
  }
}

__global__ void sgd_update_kernel(float* w, float* velocity, const float* g, std::int64_t n, float lr, float momentum,
                                  float l2, bool nesterov) {
  KILN_GRID_STRIDE_LOOP(i, n) {
    const float gradient = g[i] + l2 * w[i];
    float direction = gradient;
    if (velocity != nullptr) {
      const float updated = momentum * velocity[i] + gradient;
      velocity[i] = updated;
      direction = nesterov ? gradient + momentum * updated : updated;
    }
    w[i] -= lr * direction;
  }
}

}  // namespace

void adam_update(float* w, float* m, float* v, const float* g, std::int64_t n, const AdamStep& step) {
  KILN_LAUNCH(adam_update_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, w, m, v, g, n,
              static_cast<float>(step.beta1), static_cast<float>(step.beta2), static_cast<float>(step.eps),
              static_cast<float>(step.step_size), static_cast<float>(step.inverse_sqrt_correction2),
              static_cast<float>(step.l2));
}

void sgd_update(float* w, float* velocity, const float* g, std::int64_t n, const SgdStep& step) {
  KILN_LAUNCH(sgd_update_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, w, velocity, g, n,
              static_cast<float>(step.lr), static_cast<float>(step.momentum), static_cast<float>(step.l2),
              step.nesterov);
}

}  // namespace kiln::kernels::cuda
