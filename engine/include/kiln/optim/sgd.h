#pragma once
#include <memory>

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
  ~SGD() override;
  std::vector<nn::NamedBuffer> state() const override;

 protected:
  void update(std::span<const Gradient> group, double lr) override;

 private:
  struct Slots;  // the update's host tables (sgd.cpp)

  SgdOptions options_;
  std::vector<Tensor> velocity_;
  std::unique_ptr<Slots> slots_;
};

}  // namespace kiln::optim
