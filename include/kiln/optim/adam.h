#pragma once
#include "kiln/optim/optimizer.h"

namespace kiln::optim {

struct AdamOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

// Adam (Kingma & Ba) with bias correction, as torch.optim.Adam; L2 enters through the gradient.
class Adam : public Optimizer {
 public:
  Adam(std::vector<nn::NamedParameter> parameters, ExponentialDecay schedule, L2Options l2 = {},
       AdamOptions options = {});
  std::vector<nn::NamedBuffer> state() const override;

 protected:
  void update(std::size_t index, const Tensor& grad, double lr) override;

 private:
  AdamOptions options_;
  std::vector<Tensor> exp_avg_, exp_avg_sq_;
};

}  // namespace kiln::optim
