// Losses: cross-entropy's argument and target checks, the mean over counted positions (or the weighted mean), and the
// fused backward; class weights' checks.
#include "kiln/ops/loss.h"

#include <cmath>
#include <limits>

#include "base/cuda/index_check.h"
#include "engine/ops/dispatch.h"
#include "kernels/cross_entropy.h"
#include "kiln/autograd.h"

namespace kiln {
namespace {

cuda::IndexCheck target_check(const Tensor& targets, std::int64_t classes, std::int32_t ignore_index) {
  cuda::IndexCheck check = cuda::index_check("cross_entropy", "target", targets.shape(), classes);
  check.has_ignored = true;
  check.ignored = ignore_index;
  return check;
}

// Throws on a target outside [0, classes) that is not ignore_index; returns the mean's denominator: the sum of the
// counted targets' weights, or their count when weights is null. Summed in double in position order, so a count is
// exact.
double counted_weight(const Tensor& targets, std::int64_t classes, std::int32_t ignore_index, const float* weights) {
  const std::int32_t* values = targets.data<std::int32_t>();
  double counted = 0;
  for (std::int64_t i = 0; i < targets.numel(); ++i) {
    const std::int32_t target = values[i];
    if (target == ignore_index) continue;
    if (target < 0 || target >= classes) {
      fail(cuda::index_check_message(target_check(targets, classes, ignore_index), i, target));
    }
    counted += weights == nullptr ? 1.0 : weights[target];
  }
  return counted;
}

// The mean's factor: 1 / the denominator, or 0 when it is 0 (every target ignored, or every counted weight 0:
// nothing to average, so the loss and its gradient are 0).
double per_position_for(double denominator) { return denominator > 0 ? 1.0 / denominator : 0.0; }

Tensor checked_class_weights(const std::vector<float>& values, Device device) {
  KILN_CHECK(!values.empty(), "cross_entropy: class weights are empty (one per class expected)");
  for (std::size_t c = 0; c < values.size(); ++c) {
    KILN_CHECK(std::isfinite(values[c]) && values[c] >= 0.0f, "cross_entropy: class weight ", values[c], " at [", c,
               "] of class weights [", values.size(), "] is not a finite non-negative number");
  }
  return Tensor::from_vector(values, {static_cast<std::int64_t>(values.size())}, device);
}

// weights: undefined, or checked ClassWeights.
Tensor cross_entropy_loss(const Tensor& logits, const Tensor& targets, const Tensor& weights,
                          std::int32_t ignore_index) {
  const OpScope op_scope("cross_entropy");
  KILN_CHECK(logits.defined() && (logits.dim() == 2 || logits.dim() == 4),
             "cross_entropy: logits must be [N, C] or [N, C, H, W], got ",
             logits.defined() ? describe(logits) : "an undefined tensor");
  KILN_CHECK(targets.defined() && targets.dtype() == DType::i32, "cross_entropy: targets must be int32, got ",
             targets.defined() ? describe(targets) : "an undefined tensor");
  Shape expected_targets = logits.shape();
  expected_targets.erase(expected_targets.begin() + 1);  // the class dimension
  KILN_CHECK(targets.shape() == expected_targets, "cross_entropy: targets ", shape_str(targets.shape()),
             " do not match logits ", shape_str(logits.shape()), " (expected targets ", shape_str(expected_targets),
             ")");
  const bool cuda = ops::on_cuda("cross_entropy", logits);
  KILN_CHECK(targets.device() == logits.device(), "cross_entropy: targets on ", targets.device().str(),
             " but logits on ", logits.device().str());
  const std::int64_t outer = logits.size(0), classes = logits.size(1);
  KILN_CHECK(classes > 0, "cross_entropy: logits ", shape_str(logits.shape()), " have no classes");
  const std::int64_t inner = outer == 0 ? 0 : targets.numel() / outer;
  const bool weighted = weights.defined();
  if (weighted) {
    KILN_CHECK(weights.numel() == classes, "cross_entropy: class weights ", shape_str(weights.shape()),
               " do not match logits ", shape_str(logits.shape()), " (expected ", classes, " weights)");
    KILN_CHECK(weights.device() == logits.device(), "cross_entropy: class weights on ", weights.device().str(),
               " but logits on ", logits.device().str());
  }
  const float* weight_values = weighted ? weights.data<float>() : nullptr;

  Tensor loss = Tensor::empty({}, logits.dtype(), logits.device());
  // On CUDA nothing is read back: the count (and the weight sum) stays on the device for the backward, and an invalid
  // target is reported at the next read from the device (base/cuda/index_check.h).
  Tensor counted, weight_sum;
  double per_position = 0;
  if (cuda) {
    KILN_CUDA_KERNEL_CALL({
      KILN_CHECK(targets.numel() <= std::numeric_limits<std::int32_t>::max(), "cross_entropy: the CUDA kernels count ",
                 "positions in int32, got targets ", shape_str(targets.shape()));
      const Device device = logits.device();
      const Tensor loss_partials = Tensor::empty({2 * kernels::cuda::cross_entropy_partials}, DType::f32, device);
      const Tensor count_partials = Tensor::empty({2 * kernels::cuda::cross_entropy_partials}, DType::i32, device);
      counted = Tensor::empty({}, DType::i32, device);
      if (weighted) weight_sum = Tensor::empty({}, DType::f32, device);
      kernels::cuda::cross_entropy_loss(logits.data<float>(), targets.data<std::int32_t>(), weight_values,
                                        loss.data<float>(), counted.data<std::int32_t>(),
                                        weighted ? weight_sum.data<float>() : nullptr, outer, classes, inner,
                                        ignore_index, target_check(targets, classes, ignore_index),
                                        cuda::index_check_record(device.index), loss_partials.data<float>(),
                                        count_partials.data<std::int32_t>());
    });
  } else {
    per_position = per_position_for(counted_weight(targets, classes, ignore_index, weight_values));
    ops::dispatch_float("cross_entropy", logits, [&]<class T>() {
      const double total = kernels::cpu::cross_entropy_loss_sum(logits.data<T>(), targets.data<std::int32_t>(),
                                                                weight_values, outer, classes, inner, ignore_index);
      *loss.data<T>() = static_cast<T>(total * per_position);
    });
  }
  record(loss, "cross_entropy", {logits}, [=](const Tensor& grad, const GradientNeeds&) {
    const OpScope backward_scope("cross_entropy", Pass::backward);
    Tensor dlogits = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
    // Read from `weights` here so that the closure holds them, however long the ClassWeights live.
    const float* backward_weights = weighted ? weights.data<float>() : nullptr;
    if (cuda) {
      KILN_CUDA_KERNEL_CALL(kernels::cuda::cross_entropy_backward(
          logits.data<float>(), targets.data<std::int32_t>(), backward_weights, dlogits.data<float>(), outer, classes,
          inner, ignore_index, grad.data<float>(), counted.data<std::int32_t>(),
          weighted ? weight_sum.data<float>() : nullptr));
    } else {
      const double scale = grad.item() * per_position;
      ops::dispatch_float("cross_entropy", logits, [&]<class T>() {
        kernels::cpu::cross_entropy_backward(logits.data<T>(), targets.data<std::int32_t>(), backward_weights,
                                             dlogits.data<T>(), outer, classes, inner, ignore_index, scale);
      });
    }
    return Gradients{dlogits};
  });
  return loss;
}

}  // namespace

ClassWeights::ClassWeights(const std::vector<float>& values, Device device)
    : weights_(checked_class_weights(values, device)) {}

ClassWeights::ClassWeights(const Tensor& weights) {
  KILN_CHECK(weights.defined() && weights.dim() == 1 && weights.dtype() == DType::f32,
             "cross_entropy: class weights must be a 1-D float32 tensor, got ",
             weights.defined() ? describe(weights) : "an undefined tensor");
  weights_ = checked_class_weights(weights.to_vector(), weights.device());
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, std::int32_t ignore_index) {
  return cross_entropy_loss(logits, targets, Tensor(), ignore_index);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, const ClassWeights& class_weights,
                     std::int32_t ignore_index) {
  return cross_entropy_loss(logits, targets, class_weights.tensor(), ignore_index);
}

}  // namespace kiln
