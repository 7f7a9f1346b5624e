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
#include "kiln/data/segmentation_set.h"
#include "kiln/models/family.h"
#include "kiln/nn/module.h"
#include "kiln/train/html_report.h"

namespace kiln::train {

// An epoch's (or a pass's) running figures as of the last read.
struct MetricsSummary {
  double loss = 0;   // mean loss per target (image, or pixel for dense tasks)
  double score = 0;  // the task's headline score: accuracy for classification, mean IoU for segmentation
  std::int64_t count = 0;   // targets
  std::int64_t images = 0;  // images (the same as count for classification)
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
  // The headline score's short name for progress lines: "acc", "mIoU".
  virtual const char* score_name() const = 0;
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

// What a run or an evaluation may change about its task.
struct TaskOptions {
  // Per-class weights of the loss (PyTorch's cross_entropy weight): empty for none, else one per class.
  std::vector<double> class_weights;
  // Segmentation: the target label that counts in no loss or metric.
  std::int32_t ignore_label = data::default_ignore_label;
  // Segmentation: rank pixels by raw logits instead of softmax probabilities for average precision.
  bool rank_logits = false;
};

// The task a model family is trained for, over `classes` classes. Throws naming the option that does not fit.
std::unique_ptr<Task> make_task(models::Task kind, std::int64_t classes, const TaskOptions& options = {});
// The two implementations (classification_task.cpp, segmentation_task.cpp).
std::unique_ptr<Task> make_classification_task(std::int64_t classes, const TaskOptions& options);
std::unique_ptr<Task> make_segmentation_task(std::int64_t classes, const TaskOptions& options);

}  // namespace kiln::train
