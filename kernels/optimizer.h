#pragma once
// Parameter updates of the optimisers, in place over n elements. The L2 term enters the gradient inside the kernel
// (g + l2 * w), so no regularised copy of the gradient is made.
#include <cstdint>

namespace kiln::kernels {

// The scalars of one Adam step (torch.optim.Adam): step_size = lr / (1 - beta1^t), and
// inverse_sqrt_correction2 = 1 / sqrt(1 - beta2^t); eps is added after the bias-corrected square root.
struct AdamStep {
  double beta1, beta2, eps, step_size, inverse_sqrt_correction2, l2;
};

// One SGD step (torch.optim.SGD): v = momentum * v + g; w -= lr * v, or lr * (g + momentum * v) with Nesterov.
// velocity may be null when momentum is 0.
struct SgdStep {
  double lr, momentum, l2;
  bool nesterov;
};

namespace cpu {
template <class T> void adam_update(T* w, T* m, T* v, const T* g, std::int64_t n, const AdamStep& step);
template <class T> void sgd_update(T* w, T* velocity, const T* g, std::int64_t n, const SgdStep& step);
}  // namespace cpu

namespace cuda {
void adam_update(float* w, float* m, float* v, const float* g, std::int64_t n, const AdamStep& step);
void sgd_update(float* w, float* velocity, const float* g, std::int64_t n, const SgdStep& step);
}  // namespace cuda

}  // namespace kiln::kernels
