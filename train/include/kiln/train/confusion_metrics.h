#pragma once
// An epoch's running metrics as both tasks keep them: each batch's mean loss and a confusion matrix (per image or
// per pixel) accumulated on the model's device, read only by summary(); the headline score is computed from the
// confusion matrix by the task (accuracy, mean IoU).
#include <cstdint>
#include <functional>
#include <vector>

#include "kiln/train/evaluation.h"
#include "kiln/train/task.h"

namespace kiln::train {

class ConfusionMetrics : public EpochMetrics {
 public:
  using Score = std::function<double(const ConfusionMatrix&)>;
  // Targets equal to `ignore_label` count in no cell.
  ConfusionMetrics(std::int64_t classes, std::int64_t max_batches, Device device, std::int32_t ignore_label,
                   Score score);
  void add(const Tensor& outputs, const Tensor& targets, const Tensor& loss) override;
  // The losses are summed on the host in double, batch by batch, as each batch's mean times its targets (images, or
  // pixels ignored ones included); each read copies only the batches added since the last one.
  MetricsSummary summary() override;

 private:
  Tensor confusion_, zeros_, losses_;
  std::int32_t ignore_label_;
  Score score_;
  ConfusionMatrix host_confusion_;  // the counts read so far (the device holds those since), allocated once
  std::vector<std::int64_t> targets_;  // the targets of each batch, known on the host
  std::int64_t batches_ = 0;
  std::int64_t summed_ = 0, count_ = 0;  // batches and targets already in loss_sum_
  std::int64_t images_ = 0;
  double loss_sum_ = 0;
};

}  // namespace kiln::train
