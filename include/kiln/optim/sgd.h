#pragma once
#include "kiln/optim/optimizer.h"

namespace kiln::optim {

struct SgdOptions {
  double momentum = 0.0;
  bool nesterov = false;
};

// SGD with momentum as torch.optim.SGD: v = momentum * v + g; w -= lr * v (or lr * (g + momentum * v) for Nesterov).
class SGD : public Optimizer {
 public:
  SGD(std::vector<nn::NamedParameter> parameters, ExponentialDecay schedule, L2Options l2 = {},
      SgdOptions options = {});
  std::vector<nn::NamedBuffer> state() const override;

 protected:
  void update(std::size_t index, const Tensor& grad, double lr, double l2) override;

 private:
  SgdOptions options_;
  std::vector<Tensor> velocity_;
};

}  // namespace kiln::optim
