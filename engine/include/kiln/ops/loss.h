#pragma once
// Losses.
#include <cstdint>
#include <vector>

#include "kiln/tensor.h"

namespace kiln {

// Mean softmax cross-entropy. logits [N, C] with targets [N], or per pixel: logits [N, C, H, W] with targets
// [N, H, W]. Targets are int32 class indices; entries equal to ignore_index contribute nothing and are not counted
// in the mean. Out-of-range targets throw kiln::Error. When every target is ignored the loss and its gradient are 0.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, std::int32_t ignore_index = -100);

// Per-class weights for cross_entropy: C finite, non-negative float32 values on one device, checked once when made.
// They are a type of their own rather than a plain tensor because a check of their values on every call would, on
// CUDA, read them back to the host in every training step; made once before training, they are copied to their
// device once, and the op then only checks their length and device. Copies share the values.
class ClassWeights {
 public:
  // One weight per class, copied to `device`. Throws on an empty list or a negative or non-finite value.
  explicit ClassWeights(const std::vector<float>& values, Device device = Device::cpu());
  // From a 1-D float32 tensor on any device, read once to check it; the weights are a copy on the same device, so
  // later writes to `weights` do not reach them.
  explicit ClassWeights(const Tensor& weights);

  // The weights, float32 [C] on their device; read-only (the op relies on the check made when they were made).
  const Tensor& tensor() const { return weights_; }

 private:
  Tensor weights_;
};

// Weighted mean softmax cross-entropy, PyTorch's F.cross_entropy(logits, targets, weight=w, ignore_index=i): over the
// counted (non-ignored) positions, sum w[t] * (logsumexp(scores) - scores[t]) / sum w[t], and dlogits =
// (softmax(scores) - onehot(t)) * w[t] / sum w[t]. When that sum is 0 (every target ignored, or every counted target
// weighted 0) the loss and its gradient are 0, as for the unweighted op, where PyTorch gives NaN. The weights must
// have C entries and lie on the logits' device; they take no gradient. float64 logits (CPU) use the float32
// weights as they are.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, const ClassWeights& class_weights,
                     std::int32_t ignore_index = -100);

}  // namespace kiln
