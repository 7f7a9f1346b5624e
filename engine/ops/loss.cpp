// Losses: cross-entropy's argument and target checks, the mean over counted positions, and the fused backward.
#include "kiln/ops/loss.h"

#include <limits>
#include <string>

#include "engine/ops/dispatch.h"
#include "kernels/cross_entropy.h"
#include "kiln/autograd.h"

namespace kiln {
namespace {

// "[1, 0, 2]": the multi-index of flat position `flat` in `shape`.
std::string position_str(std::int64_t flat, const Shape& shape) {
  Shape index(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shape_str(index);
}

// Throws on a target outside [0, classes) that is not ignore_index; returns how many targets count.
std::int64_t count_targets(const Tensor& targets, std::int64_t classes, std::int32_t ignore_index) {
  const std::int32_t* values = targets.data<std::int32_t>();
  std::int64_t counted = 0;
  for (std::int64_t i = 0; i < targets.numel(); ++i) {
    const std::int32_t target = values[i];
    if (target == ignore_index) continue;
    KILN_CHECK(target >= 0 && target < classes, "cross_entropy: target ", target, " at ",
               position_str(i, targets.shape()), " of targets ", shape_str(targets.shape()), " is outside [0, ",
               classes, ") and is not ignore_index ", ignore_index);
    ++counted;
  }
  return counted;
}

// The mean's factor: 1 / counted, or 0 when every target is ignored (nothing to average: the loss and its gradient
// are 0).
double per_position_for(std::int64_t counted) { return counted > 0 ? 1.0 / static_cast<double>(counted) : 0.0; }

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, std::int32_t ignore_index) {
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

  Tensor loss = Tensor::empty({}, logits.dtype(), logits.device());
  std::int64_t counted = 0;
  if (cuda) {
    KILN_CUDA_KERNEL_CALL({
      KILN_CHECK(targets.numel() <= std::numeric_limits<std::int32_t>::max(), "cross_entropy: the CUDA kernels count ",
                 "positions in int32, got targets ", shape_str(targets.shape()));
      const Device device = logits.device();
      const Tensor loss_partials = Tensor::empty({kernels::cuda::cross_entropy_partials}, DType::f32, device);
      const Tensor count_partials = Tensor::empty({2 * kernels::cuda::cross_entropy_partials}, DType::i32, device);
      const Tensor status = Tensor::empty({2}, DType::i32, device);
      kernels::cuda::cross_entropy_loss(logits.data<float>(), targets.data<std::int32_t>(), loss.data<float>(),
                                        status.data<std::int32_t>(), outer, classes, inner, ignore_index,
                                        loss_partials.data<float>(), count_partials.data<std::int32_t>());
      const Tensor host_status = status.cpu();
      // The kernel only counts invalid targets; rescanning a host copy finds the first and throws naming it.
      if (host_status.data<std::int32_t>()[1] > 0) {
        static_cast<void>(count_targets(targets.cpu(), classes, ignore_index));
      }
      counted = host_status.data<std::int32_t>()[0];
    });
  } else {
    counted = count_targets(targets, classes, ignore_index);
    ops::dispatch_float("cross_entropy", logits, [&]<class T>() {
      const double total = kernels::cpu::cross_entropy_loss_sum(logits.data<T>(), targets.data<std::int32_t>(),
                                                                 outer, classes, inner, ignore_index);
      *loss.data<T>() = static_cast<T>(total * per_position_for(counted));
    });
  }
  const double per_position = per_position_for(counted);
  record(loss, "cross_entropy", {logits}, [=](const Tensor& grad, const GradientNeeds&) {
    const OpScope backward_scope("cross_entropy", Pass::backward);
    Tensor dlogits = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
    const double scale = grad.item() * per_position;
    if (cuda) {
      KILN_CUDA_KERNEL_CALL(kernels::cuda::cross_entropy_backward(logits.data<float>(), targets.data<std::int32_t>(),
                                                                  dlogits.data<float>(), outer, classes, inner,
                                                                  ignore_index, scale));
    } else {
      ops::dispatch_float("cross_entropy", logits, [&]<class T>() {
        kernels::cpu::cross_entropy_backward(logits.data<T>(), targets.data<std::int32_t>(), dlogits.data<T>(),
                                             outer, classes, inner, ignore_index, scale);
      });
    }
    return Gradients{dlogits};
  });
  return loss;
}

}  // namespace kiln
