#pragma once
// Both tasks' loss: softmax cross-entropy with the run's ignore label and optional class weights, which are copied to
// the logits' device once, at the first step there (not per step).
#include <cstdint>
#include <optional>
#include <vector>

#include "kiln/ops/loss.h"

namespace kiln::train {

class TaskLoss {
 public:
  TaskLoss(const std::vector<double>& class_weights, std::int32_t ignore_index)
      : weights_(class_weights.begin(), class_weights.end()), ignore_index_(ignore_index) {}

  Tensor operator()(const Tensor& logits, const Tensor& targets) const {
    if (weights_.empty()) return cross_entropy(logits, targets, ignore_index_);
    if (!on_device_ || on_device_->tensor().device() != logits.device()) on_device_.emplace(weights_, logits.device());
    return cross_entropy(logits, targets, *on_device_, ignore_index_);
  }

 private:
  std::vector<float> weights_;
  std::int32_t ignore_index_;
  mutable std::optional<ClassWeights> on_device_;  // for one training thread
};

}  // namespace kiln::train
