#pragma once
// Optimiser updates of many parameters at once, in place: one parallel pass on the CPU, one kernel launch on a CUDA
// device, over a table with one slot per parameter (kernels/multi_tensor.h numbers its chunks). The L2 term enters
// the gradient inside the update (g + l2 * w, l2 per parameter), so no regularised copy of the gradient is made.
#include <cstdint>
#include <span>

namespace kiln::kernels {

// The scalars of one Adam step (torch.optim.Adam): step_size = lr / (1 - beta1^t), and
// inverse_sqrt_correction2 = 1 / sqrt(1 - beta2^t); eps is added after the bias-corrected square root.
struct AdamStep {
  double beta1, beta2, eps, step_size, inverse_sqrt_correction2;
};

// One SGD step (torch.optim.SGD): v = momentum * v + g; w -= lr * v, or lr * (g + momentum * v) with Nesterov.
struct SgdStep {
  double lr, momentum;
  bool nesterov;
};

// One parameter of an update: n elements of the weight, its state and its gradient, the L2 factor for this
// parameter, and where its chunks start (set by the update functions).
template <class T>
struct AdamSlot {
  T* w;
  T* m;
  T* v;
  const T* g;
  std::int64_t n;
  double l2;
  std::int64_t first_chunk = 0;
};

template <class T>
struct SgdSlot {
  T* w;
  T* velocity;  // null when momentum is 0
  const T* g;
  std::int64_t n;
  double l2;
  std::int64_t first_chunk = 0;
};

namespace cpu {
// In double arithmetic per element, whatever T.
template <class T> void adam_update(std::span<AdamSlot<T>> slots, const AdamStep& step);
template <class T> void sgd_update(std::span<SgdSlot<T>> slots, const SgdStep& step);
}  // namespace cpu

namespace cuda {
// Copies the table (host memory) to device_table, memory on the parameters' device for slots.size() slots that must
// stay valid until the launch has run (copy and launch are queued in order on the default stream), then makes one
// launch over all the slots.
void adam_update(std::span<AdamSlot<float>> slots, AdamSlot<float>* device_table, const AdamStep& step);
void sgd_update(std::span<SgdSlot<float>> slots, SgdSlot<float>* device_table, const SgdStep& step);
}  // namespace cuda

}  // namespace kiln::kernels
