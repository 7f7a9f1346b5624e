#include "kiln/train/evaluation.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "kiln/autograd.h"
#include "kiln/ops/loss.h"
#include "kiln/data/dataset.h"

namespace kiln::train {

std::vector<ClassScores> class_scores(const ConfusionMatrix& confusion) {
  const std::size_t classes = confusion.size();
  std::vector<ClassScores> scores(classes);
  for (std::size_t c = 0; c < classes; ++c) {
    KILN_CHECK(confusion[c].size() == classes, "class_scores: confusion row ", c, " has ", confusion[c].size(),
               " entries, expected ", classes);
    std::int64_t predicted = 0;
    for (std::size_t t = 0; t < classes; ++t) {
      scores[c].support += confusion[c][t];
      predicted += confusion[t][c];
    }
    const auto hits = static_cast<double>(confusion[c][c]);
    ClassScores& score = scores[c];
    score.precision = predicted > 0 ? hits / static_cast<double>(predicted) : 0.0;
    score.recall = score.support > 0 ? hits / static_cast<double>(score.support) : 0.0;
    const double both = score.precision + score.recall;
    score.f1 = both > 0 ? 2 * score.precision * score.recall / both : 0.0;
  }
  return scores;
}

double accuracy(const ConfusionMatrix& confusion) {
  std::int64_t total = 0, hits = 0;
  for (std::size_t t = 0; t < confusion.size(); ++t) {
    for (std::size_t p = 0; p < confusion[t].size(); ++p) total += confusion[t][p];
    if (t < confusion[t].size()) hits += confusion[t][t];
  }
  return total > 0 ? static_cast<double>(hits) / static_cast<double>(total) : 0.0;
}

std::string to_json(const ClassificationReport& report) {
  nlohmann::ordered_json per_class = nlohmann::ordered_json::array();
  for (std::size_t c = 0; c < report.per_class.size(); ++c) {
    const ClassScores& score = report.per_class[c];
    per_class.push_back({{"class", c < report.classes.size() ? report.classes[c] : std::to_string(c)},
                         {"precision", score.precision},
                         {"recall", score.recall},
                         {"f1", score.f1},
                         {"support", score.support}});
  }
  nlohmann::ordered_json json = {{"accuracy", report.accuracy},
                                 {"loss", report.loss},
                                 {"count", report.count},
                                 {"per_class", per_class},
                                 {"confusion", report.confusion}};
  return json.dump();
}

std::vector<double> softmax_row(const float* logits, std::int64_t classes) {
  const double largest = *std::max_element(logits, logits + classes);
  std::vector<double> probabilities(static_cast<std::size_t>(classes));
  double sum = 0;
  for (std::size_t c = 0; c < probabilities.size(); ++c) {
    probabilities[c] = std::exp(static_cast<double>(logits[c]) - largest);
    sum += probabilities[c];
  }
  for (double& probability : probabilities) probability /= sum;
  return probabilities;
}

void count_predictions(const Tensor& logits, const Tensor& labels, ConfusionMatrix& confusion,
                       std::vector<Prediction>* predictions) {
  KILN_CHECK(logits.dim() == 2 && labels.dtype() == DType::i32 && labels.shape() == Shape{logits.size(0)},
             "count_predictions: expected logits [N, C] and int32 labels [N], got ", describe(logits), " and ",
             describe(labels));
  const std::int64_t rows = logits.size(0), classes = logits.size(1);
  KILN_CHECK(static_cast<std::int64_t>(confusion.size()) == classes, "count_predictions: logits have ", classes,
             " classes but the confusion matrix has ", confusion.size());
  // One copy of each to the host, per batch of an evaluation.
  const Tensor host_logits = logits.to(DType::f32).cpu();
  const Tensor host_labels = labels.cpu();
  const std::int32_t* truth = host_labels.data<std::int32_t>();
  for (std::int64_t row = 0; row < rows; ++row) {
    const float* scores = host_logits.data<float>() + row * classes;
    std::int64_t best = 0;
    for (std::int64_t c = 1; c < classes; ++c) {
      if (scores[c] > scores[best]) best = c;
    }
    KILN_CHECK(truth[row] >= 0 && truth[row] < classes, "count_predictions: label ", truth[row], " of row ", row,
               " is not one of ", classes, " classes");
    ++confusion[static_cast<std::size_t>(truth[row])][static_cast<std::size_t>(best)];
    if (predictions != nullptr) {
      const double probability = softmax_row(scores, classes)[static_cast<std::size_t>(best)];
      predictions->push_back({static_cast<std::int32_t>(best), static_cast<float>(probability)});
    }
  }
}

ClassificationReport evaluate(nn::Module& model, data::DataSource& source, std::int64_t batch_size, Device device) {
  const EvalModeGuard eval_mode(model);
  NoGradGuard no_grad;
  ClassificationReport report;
  report.classes = source.classes();
  report.predictions.reserve(static_cast<std::size_t>(source.size()));
  source.start_epoch(data::sequential_order(source.size()), batch_size, std::nullopt);
  double loss_sum = 0;
  while (const std::optional<data::Batch> batch = source.next()) {
    const Tensor labels = batch->labels.to(device);
    const Tensor logits = model(batch->images.to(device));
    if (report.confusion.empty()) {
      const auto classes = static_cast<std::size_t>(logits.size(1));
      report.confusion.assign(classes, std::vector<std::int64_t>(classes, 0));
    }
    loss_sum += cross_entropy(logits, labels).item() * static_cast<double>(batch->labels.numel());
    report.count += batch->labels.numel();
    count_predictions(logits, batch->labels, report.confusion, &report.predictions);
  }
  KILN_CHECK(report.classes.empty() || report.classes.size() == report.confusion.size(), "evaluate: the set names ",
             report.classes.size(), " classes but the model predicts ", report.confusion.size());
  report.loss = report.count > 0 ? loss_sum / static_cast<double>(report.count) : 0.0;
  report.accuracy = accuracy(report.confusion);
  report.per_class = class_scores(report.confusion);
  return report;
}

ClassificationReport evaluate(nn::Module& model, const data::LabelledImages& set, std::int64_t batch_size,
                              Device device) {
  data::InMemorySource source(set);
  return evaluate(model, source, batch_size, device);
}

}  // namespace kiln::train
