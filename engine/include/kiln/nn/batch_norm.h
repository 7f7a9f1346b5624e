#pragma once
// Batch normalisation over channels of [N, C] (BatchNorm1d) or [N, C, H, W] (BatchNorm2d).
// Mode: train() uses batch statistics and updates the running ones; eval() uses the running ones; freeze_statistics()
// while training uses the running ones, never updates them, and still trains gamma and beta.
#include <cstdint>

#include "kiln/nn/module.h"
#include "kiln/ops/batch_norm.h"

namespace kiln::nn {

class BatchNorm : public Module {
 public:
  // Parameters weight (gamma, ones) and bias (beta, zeros); buffers running_mean (zeros), running_var (ones).
  explicit BatchNorm(std::int64_t channels, double running_momentum = 0.1, double epsilon = 1e-5);
  Tensor forward(const Tensor& input) override;

  void freeze_statistics(bool frozen = true) { frozen_ = frozen; }
  bool statistics_frozen() const { return frozen_; }
  BatchNormMode mode() const;

  Tensor weight, bias, running_mean, running_var;
  double momentum, eps;

 private:
  bool frozen_ = false;
};

}  // namespace kiln::nn
