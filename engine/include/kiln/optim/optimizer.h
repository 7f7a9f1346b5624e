#pragma once
// Optimisers update named parameters in place from their gradients. L2 regularisation adds
// lambda/2 * sum ||w||^2 to the loss, i.e. lambda * w to each included parameter's gradient.
#include <cstdint>
#include <span>
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
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update from the current gradients (parameters without a gradient are skipped), then step() grows by one.
  // The parameters of one device and dtype are updated together: one parallel pass on the CPU, one kernel launch on
  // a CUDA device, which allocates nothing after the first step.
  void step();
  void zero_grad();
  double learning_rate() const { return schedule_.at(step_); }
  std::int64_t steps_taken() const { return step_; }

  // State for checkpoints: named tensors ("exp_avg.conv1.weight", ...) and the step count.
  virtual std::vector<nn::NamedBuffer> state() const = 0;
  void load_state(const std::vector<nn::NamedBuffer>& state, std::int64_t step);
  const std::vector<nn::NamedParameter>& parameters() const { return parameters_; }

 protected:
  // One parameter's part in a step: its index in parameters_, its loss gradient and the L2 factor for it.
  struct Gradient {
    std::size_t index;
    Tensor grad;
    double l2;
  };
  // Updates every parameter of `group` (all on one device, with one dtype) in place from grad + l2 * w, at learning
  // rate `lr`, in one pass.
  virtual void update(std::span<const Gradient> group, double lr) = 0;

  // Memory on a CUDA device for an update's table of `count` slots: kept from step to step, so that a step allocates
  // nothing, and replaced by a larger block only when a table outgrows it.
  template <class Slot>
  Slot* device_table(Device device, std::size_t count) {
    return static_cast<Slot*>(device_table_bytes(device, count * sizeof(Slot)));
  }

  std::vector<nn::NamedParameter> parameters_;
  ExponentialDecay schedule_;
  L2Options l2_;
  std::int64_t step_ = 0;

 private:
  void* device_table_bytes(Device device, std::size_t bytes);

  struct TableBlock {
    Device device;
    void* memory;
    std::size_t bytes;
  };
  std::vector<TableBlock> tables_;
  std::vector<Gradient> gradients_;  // during a step; kept, so that a step allocates nothing
};

}  // namespace kiln::optim
