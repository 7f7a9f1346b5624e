#include "kiln/train/confusion_metrics.h"

#include <algorithm>
#include <cmath>

#include "kiln/autograd.h"
#include "kiln/ops/metrics.h"

namespace kiln::train {

ConfusionMetrics::ConfusionMetrics(std::int64_t classes, std::int64_t max_batches, Device device,
                                   std::int32_t ignore_label, Score score)
    : confusion_(Tensor::zeros({classes, classes}, DType::i32, device)),
      zeros_(Tensor::zeros({classes, classes}, DType::i32, device)),
      losses_(Tensor::zeros({std::max<std::int64_t>(max_batches, 1)}, DType::f32, device)),
      ignore_label_(ignore_label),
      score_(std::move(score)),
      host_confusion_(static_cast<std::size_t>(classes), std::vector<std::int64_t>(static_cast<std::size_t>(classes))),
      targets_(static_cast<std::size_t>(std::max<std::int64_t>(max_batches, 1))) {}

void ConfusionMetrics::add(const Tensor& outputs, const Tensor& targets, const Tensor& loss) {
  KILN_CHECK(batches_ < losses_.numel(), "epoch metrics: more batches than the ", losses_.numel(), " planned");
  const NoGradGuard no_grad;
  losses_.narrow(0, batches_, 1).copy_from(loss.detach().to(DType::f32).reshape({1}));
  targets_[static_cast<std::size_t>(batches_)] = targets.numel();
  images_ += targets.size(0);
  ++batches_;
  accumulate_confusion(confusion_, outputs.detach(), targets, ignore_label_);
}

MetricsSummary ConfusionMetrics::summary() {
  MetricsSummary summary;
  if (batches_ == 0) return summary;
  if (summed_ < batches_) {
    const Tensor losses = losses_.narrow(0, summed_, batches_ - summed_).cpu();
    for (std::int64_t b = summed_; b < batches_; ++b) {
      const double loss = losses.data<float>()[b - summed_];
      KILN_CHECK(std::isfinite(loss), "training diverged: the loss is ", loss, " at step ", b + 1,
                 " (try a lower learning rate)");
      loss_sum_ += loss * static_cast<double>(targets_[static_cast<std::size_t>(b)]);
      count_ += targets_[static_cast<std::size_t>(b)];
    }
    summed_ = batches_;
  }
  summary.count = count_;
  summary.images = images_;
  summary.loss = count_ > 0 ? loss_sum_ / static_cast<double>(count_) : 0.0;
  // The device counts in int32 since the last read are moved into the host's int64 totals, so that no cell of an
  // epoch's pixel counts can overflow. (On the CPU, counts is confusion_ itself: it is zeroed after it is added.)
  const Tensor counts = confusion_.cpu();
  const std::int64_t classes = counts.size(0);
  for (std::int64_t t = 0; t < classes; ++t) {
    for (std::int64_t p = 0; p < classes; ++p) {
      host_confusion_[static_cast<std::size_t>(t)][static_cast<std::size_t>(p)] +=
          counts.data<std::int32_t>()[t * classes + p];
    }
  }
  confusion_.copy_from(zeros_);
  const double score = score_(host_confusion_);
  summary.score = std::isfinite(score) ? score : 0.0;  // undefined before anything counted
  return summary;
}

}  // namespace kiln::train
