#pragma once
// Optimisers update named parameters in place from their gradients. L2 regularisation adds
// lambda/2 * sum ||w||^2 to the loss, i.e. lambda * w to each included parameter's gradient.
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/nn/module.h"
#include "kiln/optim/lr_schedule.h"

namespace kiln::optim {

struct L2Options {
  double lambda = 0.0;
  bool include_biases = false;  // RoomNet's recipe includes everything: set both
  bool include_norm = false;    // batch-norm gamma and beta
  bool applies_to(nn::ParameterKind kind) const;
};

// The penalty lambda/2 * sum of squares over the included parameters, as a differentiable scalar (for reporting the
// full loss; the optimisers add the gradient themselves).
Tensor l2_penalty(const std::vector<nn::NamedParameter>& parameters, const L2Options& options);

class Optimizer {
 public:
  Optimizer(std::vector<nn::NamedParameter> parameters, ExponentialDecay schedule, L2Options l2);
  virtual ~Optimizer() = default;

  // One update from the current gradients (parameters without a gradient are skipped), then step() grows by one.
  void step();
  void zero_grad();
  double learning_rate() const { return schedule_.at(step_); }
  std::int64_t steps_taken() const { return step_; }

  // State for checkpoints: named tensors ("exp_avg.conv1.weight", ...) and the step count.
  virtual std::vector<nn::NamedBuffer> state() const = 0;
  void load_state(const std::vector<nn::NamedBuffer>& state, std::int64_t step);
  const std::vector<nn::NamedParameter>& parameters() const { return parameters_; }

 protected:
  // Updates parameter `index` in place from the loss gradient `grad` plus l2 * w, at learning rate `lr`.
  virtual void update(std::size_t index, const Tensor& grad, double lr, double l2) = 0;

  std::vector<nn::NamedParameter> parameters_;
  ExponentialDecay schedule_;
  L2Options l2_;
  std::int64_t step_ = 0;
};

}  // namespace kiln::optim
