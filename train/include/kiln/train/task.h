#pragma once
// A task is the trainer's one point of variation: what a batch's targets are, the loss, the running metrics of an
// epoch, and the full evaluation that kiln eval prints, writes as JSON and renders in the HTML report. The model
// family names its task (models::Task); classification is the first implementation, and segmentation arrives as a
// second one, not as branches in the trainer.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/data/data_source.h"
#include "kiln/models/family.h"
#include "kiln/nn/module.h"
#include "kiln/train/html_report.h"

namespace kiln::train {

// An epoch's (or a pass's) running figures as of the last read.
struct MetricsSummary {
  double loss = 0;   // mean loss per target (image, or pixel for dense tasks)
  double score = 0;  // the task's headline score: accuracy for classification
  std::int64_t count = 0;
};

// Accumulates on the model's device, so that a training step never waits for the device: summary() is the one read,
// made per progress update and at the epoch's end.
class EpochMetrics {
 public:
  virtual ~EpochMetrics() = default;
  // One batch: the model's outputs, the batch's targets (both on the device) and its mean loss (a device scalar).
  virtual void add(const Tensor& outputs, const Tensor& targets, const Tensor& loss) = 0;
  // Reads the device. Throws naming the step when the loss has become NaN or infinite.
  virtual MetricsSummary summary() = 0;
};

// A finished evaluation of a model on a source.
class Evaluation {
 public:
  virtual ~Evaluation() = default;
  virtual MetricsSummary summary() const = 0;
  virtual std::string table() const = 0;  // what kiln eval prints
  virtual std::string json() const = 0;   // what kiln eval --json prints
  // The HTML report: `content` has the title, subtitle, curves and (optionally) the raw images with their labels.
  virtual std::string html_report(ReportContent content) const = 0;
};

class Task {
 public:
  virtual ~Task() = default;
  // The mean loss of a batch, recorded for backward.
  virtual Tensor loss(const Tensor& outputs, const Tensor& targets) const = 0;
  // Metrics for an epoch of at most `max_batches` batches over `classes` classes on `device`.
  virtual std::unique_ptr<EpochMetrics> epoch_metrics(std::int64_t classes, std::int64_t max_batches,
                                                      Device device) const = 0;
  // Runs `model` in eval mode without recording gradients over `source` in its own order, unaugmented, in batches on
  // `device` (files the source skips are left out). The model's train/eval mode is restored afterwards.
  virtual std::unique_ptr<Evaluation> evaluate(nn::Module& model, data::DataSource& source, std::int64_t batch_size,
                                               Device device) const = 0;
};

// The task a model family is trained for.
const Task& task_for(models::Task kind);

}  // namespace kiln::train
