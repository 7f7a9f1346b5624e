#pragma once
#include <memory>

#include "kiln/optim/optimizer.h"

namespace kiln::optim {

struct AdamOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

// Adam (Kingma & Ba) with bias correction, as torch.optim.Adam; L2 enters through the gradient. The bias correction
// counts the optimiser's steps, which equals PyTorch's per-parameter count when every parameter gets a gradient at
// every step (a parameter that skips steps is corrected as if it had not).
class Adam : public Optimizer {
 public:
  Adam(std::vector<nn::NamedParameter> parameters, ExponentialDecay schedule, L2Options l2 = {},
       AdamOptions options = {});
  ~Adam() override;
  std::vector<nn::NamedBuffer> state() const override;

 protected:
  void update(std::span<const Gradient> group, double lr) override;

 private:
  struct Slots;  // the update's host tables (adam.cpp)

  AdamOptions options_;
  std::vector<Tensor> exp_avg_, exp_avg_sq_;
  std::unique_ptr<Slots> slots_;
};

}  // namespace kiln::optim
