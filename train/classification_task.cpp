// Classification: logits [N, C] against int32 labels [N]; cross-entropy; accuracy and a confusion matrix on the
// device during training; per-class precision, recall and F1 in evaluation.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "kiln/ops/loss.h"
#include "kiln/train/confusion_metrics.h"
#include "kiln/train/evaluation.h"
#include "kiln/train/task.h"
#include "train/task_loss.h"

namespace kiln::train {

namespace {

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
  MetricsSummary summary() const override { return {report_.loss, report_.accuracy, report_.count, report_.count}; }
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
  explicit ClassificationTask(const TaskOptions& options) : loss_(options.class_weights, -100) {}
  const char* score_name() const override { return "acc"; }
  Tensor loss(const Tensor& outputs, const Tensor& targets) const override { return loss_(outputs, targets); }
  std::unique_ptr<EpochMetrics> epoch_metrics(std::int64_t classes, std::int64_t max_batches,
                                              Device device) const override {
    return std::make_unique<ConfusionMetrics>(classes, max_batches, device, -100,
                                              [](const ConfusionMatrix& confusion) { return accuracy(confusion); });
  }
  std::unique_ptr<Evaluation> evaluate(nn::Module& model, data::DataSource& source, std::int64_t batch_size,
                                       Device device) const override {
    return std::make_unique<ClassificationEvaluation>(train::evaluate(model, source, batch_size, device));
  }

 private:
  TaskLoss loss_;
};

}  // namespace

std::unique_ptr<Task> make_classification_task(std::int64_t, const TaskOptions& options) {
  return std::make_unique<ClassificationTask>(options);
}

}  // namespace kiln::train
