#pragma once
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
  std::vector<nn::NamedBuffer> state() const override;

 protected:
  void update(std::size_t index, const Tensor& grad, double lr, double l2) override;

 private:
  AdamOptions options_;
  std::vector<Tensor> exp_avg_, exp_avg_sq_;
};

}  // namespace kiln::optim
