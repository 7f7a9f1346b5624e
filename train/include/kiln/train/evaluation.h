#pragma once
// Classification metrics and batched evaluation of a model on a labelled image set.
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/data/idx.h"
#include "kiln/nn/module.h"
#include "kiln/data/data_source.h"

namespace kiln::train {

// confusion[true_class][predicted_class] = number of images.
using ConfusionMatrix = std::vector<std::vector<std::int64_t>>;

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;  // 0 where undefined (a class never predicted or never present)
  std::int64_t support = 0;                  // images of this class
};

// One image's predicted class (the largest logit, the first on ties) and the softmax probability given to it.
struct Prediction {
  std::int32_t predicted_class = 0;
  float probability = 0;
};

struct ClassificationReport {
  double loss = 0;      // mean cross-entropy per image
  double accuracy = 0;  // fraction predicted correctly
  std::int64_t count = 0;
  std::vector<std::string> classes;
  ConfusionMatrix confusion;
  std::vector<ClassScores> per_class;
  std::vector<Prediction> predictions;  // one per image, in the set's order
};

// Puts a module in eval mode for a scope, restoring its mode even when the scope throws.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(nn::Module& model) : model_(model), was_training_(model.is_training()) { model.eval(); }
  ~EvalModeGuard() { model_.train(was_training_); }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  nn::Module& model_;
  bool was_training_;
};

// Per-class precision, recall and F1 from a square confusion matrix, and the overall accuracy.
std::vector<ClassScores> class_scores(const ConfusionMatrix& confusion);
double accuracy(const ConfusionMatrix& confusion);

// {"accuracy", "loss", "count", "per_class": [{"class", "precision", "recall", "f1", "support"}], "confusion"}.
std::string to_json(const ClassificationReport& report);

// Runs `model` in eval mode without recording gradients over `source` in its own order, unaugmented, in batches, on
// `device` (files the source skips are left out of the count). The model's train/eval mode is restored afterwards.
ClassificationReport evaluate(nn::Module& model, data::DataSource& source, std::int64_t batch_size,
                              Device device = Device::cpu());
// The same over `set` (already normalised).
ClassificationReport evaluate(nn::Module& model, const data::LabelledImages& set, std::int64_t batch_size,
                              Device device = Device::cpu());

// Softmax of one row of `classes` logits, in double and stable (every exponent <= 0).
std::vector<double> softmax_row(const float* logits, std::int64_t classes);

// Index of the largest of each row of logits [N, C] (the first on ties), counted into `confusion` against `labels`
// and, when `predictions` is given, appended to it with its softmax probability.
void count_predictions(const Tensor& logits, const Tensor& labels, ConfusionMatrix& confusion,
                       std::vector<Prediction>* predictions = nullptr);

}  // namespace kiln::train
