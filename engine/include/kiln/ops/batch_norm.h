#pragma once
// Batch normalisation over dim 1 of [N, C] or [N, C, H, W].
#include "kiln/tensor.h"

namespace kiln {

enum class BatchNormMode {
  train,   // normalise with batch statistics; update running mean/var with momentum
  eval,    // normalise with the running statistics
  frozen,  // normalise with the running statistics, never update them, gradients still flow (RoomNet's late phase)
};

struct BatchNormOptions {
  BatchNormMode mode = BatchNormMode::train;
  // PyTorch's convention: running = (1 - momentum) * running + momentum * batch; the running variance is unbiased.
  // (TensorFlow's decay 0.99 is momentum 0.01 here.)
  double momentum = 0.1;
  double eps = 1e-5;
};

// gamma, beta, running_mean, running_var: [C]. running_* are updated in place in train mode (not recorded).
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, const BatchNormOptions& options);

}  // namespace kiln
