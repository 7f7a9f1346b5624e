// Classification: logits [N, C] against int32 labels [N]; cross-entropy; accuracy and a confusion matrix on the
// device during training; per-class precision, recall and F1 in evaluation.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "kiln/autograd.h"
#include "kiln/ops/loss.h"
#include "kiln/ops/metrics.h"
#include "kiln/train/evaluation.h"
#include "kiln/train/task.h"

namespace kiln::train {

namespace {

class ClassificationMetrics : public EpochMetrics {
 public:
  ClassificationMetrics(std::int64_t classes, std::int64_t max_batches, Device device)
      : confusion_(Tensor::zeros({classes, classes}, DType::i32, device)),
        losses_(Tensor::zeros({std::max<std::int64_t>(max_batches, 1)}, DType::f32, device)),
        rows_(static_cast<std::size_t>(std::max<std::int64_t>(max_batches, 1))) {}

  void add(const Tensor& outputs, const Tensor& targets, const Tensor& loss) override {
    KILN_CHECK(batches_ < losses_.numel(), "epoch metrics: more batches than the ", losses_.numel(), " planned");
    const NoGradGuard no_grad;
    losses_.narrow(0, batches_, 1).copy_from(loss.detach().to(DType::f32).reshape({1}));
    rows_[static_cast<std::size_t>(batches_)] = targets.numel();
    ++batches_;
    accumulate_confusion(confusion_, outputs.detach(), targets);
  }

  // The losses are summed on the host in double, batch by batch, as the mean of each batch times its rows; each read
  // copies only the batches added since the last one.
  MetricsSummary summary() override {
    MetricsSummary summary;
    if (batches_ == 0) return summary;
    if (summed_ < batches_) {
      const Tensor losses = losses_.narrow(0, summed_, batches_ - summed_).cpu();
      for (std::int64_t b = summed_; b < batches_; ++b) {
        const double loss = losses.data<float>()[b - summed_];
        KILN_CHECK(std::isfinite(loss), "training diverged: the loss is ", loss, " at step ", b + 1,
                   " (try a lower learning rate)");
        loss_sum_ += loss * static_cast<double>(rows_[static_cast<std::size_t>(b)]);
        count_ += rows_[static_cast<std::size_t>(b)];
      }
      summed_ = batches_;
    }
    summary.count = count_;
    summary.loss = loss_sum_ / static_cast<double>(count_);
    const Tensor confusion = confusion_.cpu();
    std::int64_t hits = 0, total = 0;
    const std::int64_t classes = confusion.size(0);
    for (std::int64_t t = 0; t < classes; ++t) {
      for (std::int64_t p = 0; p < classes; ++p) total += confusion.data<std::int32_t>()[t * classes + p];
      hits += confusion.data<std::int32_t>()[t * classes + t];
    }
    summary.score = total > 0 ? static_cast<double>(hits) / static_cast<double>(total) : 0.0;
    return summary;
  }

 private:
  Tensor confusion_, losses_;
  std::vector<std::int64_t> rows_;  // the rows of each batch, known on the host
  std::int64_t batches_ = 0;
  std::int64_t summed_ = 0, count_ = 0;  // batches and rows already in loss_sum_
  double loss_sum_ = 0;
};

std::string format_table(const ClassificationReport& report) {
  std::size_t name_width = 13;  // "macro average"
  for (const std::string& name : report.classes) name_width = std::max(name_width, name.size());
  const int width = static_cast<int>(name_width);
  std::string text;
  const auto append = [&text](const char* format, auto... values) {
    char line[512];
    std::snprintf(line, sizeof line, format, values...);
    text += line;
  };
  append("accuracy %.2f%%  loss %.4f  (%lld images)\n\n", 100 * report.accuracy, report.loss,
         static_cast<long long>(report.count));
  append("%-*s  precision  recall      f1  support\n", width, "class");
  double precision = 0, recall = 0, f1 = 0;
  for (std::size_t c = 0; c < report.per_class.size(); ++c) {
    const ClassScores& score = report.per_class[c];
    append("%-*s  %9.4f  %6.4f  %6.4f  %7lld\n", width, report.classes[c].c_str(), score.precision, score.recall,
           score.f1, static_cast<long long>(score.support));
    precision += score.precision;
    recall += score.recall;
    f1 += score.f1;
  }
  const auto classes = static_cast<double>(std::max<std::size_t>(report.per_class.size(), 1));
  append("%-*s  %9.4f  %6.4f  %6.4f  %7lld\n\n", width, "macro average", precision / classes, recall / classes,
         f1 / classes, static_cast<long long>(report.count));
  append("confusion matrix (rows: true class, columns: predicted class)\n%*s", width + 4, "");
  for (std::size_t c = 0; c < report.confusion.size(); ++c) append("%6zu", c);
  text += "\n";
  for (std::size_t t = 0; t < report.confusion.size(); ++t) {
    append("%2zu %-*s ", t, width, report.classes[t].c_str());
    for (const std::int64_t count : report.confusion[t]) append("%6lld", static_cast<long long>(count));
    text += "\n";
  }
  return text;
}

class ClassificationEvaluation : public Evaluation {
 public:
  explicit ClassificationEvaluation(ClassificationReport report) : report_(std::move(report)) {}
  MetricsSummary summary() const override { return {report_.loss, report_.accuracy, report_.count}; }
  std::string table() const override { return format_table(report_); }
  std::string json() const override { return to_json(report_); }
  std::string html_report(ReportContent content) const override {
    content.evaluation = report_;
    return render_html_report(content);
  }

 private:
  ClassificationReport report_;
};

class ClassificationTask : public Task {
 public:
  Tensor loss(const Tensor& outputs, const Tensor& targets) const override { return cross_entropy(outputs, targets); }
  std::unique_ptr<EpochMetrics> epoch_metrics(std::int64_t classes, std::int64_t max_batches,
                                              Device device) const override {
    return std::make_unique<ClassificationMetrics>(classes, max_batches, device);
  }
  std::unique_ptr<Evaluation> evaluate(nn::Module& model, data::DataSource& source, std::int64_t batch_size,
                                       Device device) const override {
    return std::make_unique<ClassificationEvaluation>(train::evaluate(model, source, batch_size, device));
  }
};

}  // namespace

const Task& task_for(models::Task kind) {
  static const ClassificationTask classification;
  KILN_CHECK(kind == models::Task::classification, "training and evaluating ", models::task_name(kind),
             " models is not implemented yet (kiln info describes them; docs/segmentation.md says what exists)");
  return classification;
}

}  // namespace kiln::train
