#include <catch2/catch.hpp>

#include <cmath>
#include <nlohmann/json.hpp>

#include "kiln/autograd.h"
#include "kiln/models/registry.h"
#include "kiln/ops/loss.h"
#include "kiln/train/evaluation.h"
#include "kiln/train/task.h"

using namespace kiln;

TEST_CASE("metrics: precision, recall and F1 of a hand-made confusion matrix", "[train]") {
  // Rows are true classes, columns predictions. Class 0: 5 hits of 7 predicted, 6 present; class 1: 3 of 4, 6;
  // class 2: 4 of 5, 4.
  const train::ConfusionMatrix confusion = {{5, 1, 0}, {2, 3, 1}, {0, 0, 4}};
  const std::vector<train::ClassScores> scores = train::class_scores(confusion);
  REQUIRE(scores.size() == 3);
  CHECK(scores[0].precision == Approx(5.0 / 7));
  CHECK(scores[0].recall == Approx(5.0 / 6));
  CHECK(scores[0].f1 == Approx(10.0 / 13));  // 2 * (5/7) * (5/6) / (5/7 + 5/6)
  CHECK(scores[1].precision == Approx(0.75));
  CHECK(scores[1].recall == Approx(0.5));
  CHECK(scores[1].f1 == Approx(0.6));
  CHECK(scores[2].precision == Approx(0.8));
  CHECK(scores[2].recall == Approx(1.0));
  CHECK(scores[2].f1 == Approx(8.0 / 9));
  CHECK(scores[0].support == 6);
  CHECK(scores[1].support == 6);
  CHECK(scores[2].support == 4);
  CHECK(train::accuracy(confusion) == Approx(12.0 / 16));
}

TEST_CASE("metrics: a class never predicted scores 0 instead of dividing by zero", "[train]") {
  const std::vector<train::ClassScores> scores = train::class_scores({{2, 0}, {1, 0}});
  CHECK(scores[0].precision == Approx(2.0 / 3));
  CHECK(scores[0].recall == Approx(1.0));
  CHECK(scores[1].precision == 0.0);
  CHECK(scores[1].recall == 0.0);
  CHECK(scores[1].f1 == 0.0);
  CHECK(scores[1].support == 1);
}

TEST_CASE("metrics: predictions are the first largest logit, counted against the labels", "[train]") {
  train::ConfusionMatrix confusion(2, std::vector<std::int64_t>(2, 0));
  const Tensor logits = Tensor::from_vector(std::vector<float>{0.1f, 0.9f, 2, 1, 1, 1}, {3, 2});
  std::vector<train::Prediction> predictions;
  train::count_predictions(logits, Tensor::from_vector(std::vector<std::int32_t>{1, 1, 0}, {3}), confusion,
                           &predictions);
  CHECK(confusion == train::ConfusionMatrix{{1, 0}, {1, 1}});
  REQUIRE(predictions.size() == 3);
  CHECK(predictions[0].predicted_class == 1);
  CHECK(predictions[0].probability == Approx(1 / (1 + std::exp(-0.8))));  // softmax of two logits 0.8 apart
  CHECK(predictions[1].predicted_class == 0);
  CHECK(predictions[1].probability == Approx(1 / (1 + std::exp(-1.0))));
  CHECK(predictions[2].predicted_class == 0);
  CHECK(predictions[2].probability == Approx(0.5));
  CHECK_THROWS_WITH(
      train::count_predictions(logits, Tensor::from_vector(std::vector<std::int32_t>{1, 2, 0}, {3}), confusion),
      Catch::Contains("label 2"));
}

TEST_CASE("metrics: the JSON report has the documented fields", "[train]") {
  train::ClassificationReport report;
  report.classes = {"cat", "dog"};
  report.confusion = {{3, 1}, {0, 4}};
  report.per_class = train::class_scores(report.confusion);
  report.accuracy = train::accuracy(report.confusion);
  report.loss = 0.25;
  report.count = 8;
  const auto json = nlohmann::json::parse(train::to_json(report));
  CHECK(json.at("accuracy").get<double>() == Approx(7.0 / 8));
  CHECK(json.at("loss").get<double>() == 0.25);
  CHECK(json.at("per_class").at(1).at("class") == "dog");
  CHECK(json.at("per_class").at(1).at("precision").get<double>() == Approx(0.8));
  CHECK(json.at("per_class").at(0).at("support") == 4);
  CHECK(json.at("confusion") == nlohmann::json::array({{3, 1}, {0, 4}}));
}

TEST_CASE("evaluate: batches with a remainder give the whole set's mean loss, in eval mode", "[train]") {
  Generator generator(21);
  const auto model = models::make_model("fmnist-bn", generator);
  data::LabelledImages set;
  set.images = Tensor::randn({7, 1, 28, 28}, generator);
  set.labels = Tensor::from_vector(std::vector<std::int32_t>{0, 1, 2, 3, 4, 5, 9}, {7});
  set.classes = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  const train::ClassificationReport report = train::evaluate(*model, set, 3);
  CHECK(model->is_training());  // restored

  model->eval();
  NoGradGuard no_grad;
  const Tensor logits = model->forward(set.images);
  CHECK(report.loss == Approx(cross_entropy(logits, set.labels).item()).epsilon(1e-5));
  train::ConfusionMatrix expected(10, std::vector<std::int64_t>(10, 0));
  train::count_predictions(logits, set.labels, expected);
  CHECK(report.confusion == expected);
  CHECK(report.count == 7);
  CHECK(report.accuracy == Approx(train::accuracy(expected)));
}

TEST_CASE("epoch metrics: the classification task's device-side sums equal the host formulas, read in pieces",
          "[train]") {
  const std::unique_ptr<train::Task> task = train::make_task(models::Task::classification, 3);
  const std::unique_ptr<train::EpochMetrics> metrics = task->epoch_metrics(3, 2, Device::cpu());
  const Tensor logits_a = Tensor::from_vector(std::vector<float>{2, 1, 0, 0, 3, 1}, {2, 3});
  const Tensor labels_a = Tensor::from_vector(std::vector<std::int32_t>{0, 2}, {2});
  const Tensor logits_b = Tensor::from_vector(std::vector<float>{0, 0, 5}, {1, 3});
  const Tensor labels_b = Tensor::from_vector(std::vector<std::int32_t>{2}, {1});
  const Tensor loss_a = cross_entropy(logits_a, labels_a), loss_b = cross_entropy(logits_b, labels_b);
  metrics->add(logits_a, labels_a, loss_a);
  const train::MetricsSummary first = metrics->summary();
  CHECK(first.count == 2);
  CHECK(first.loss == static_cast<double>(loss_a.item()));
  CHECK(first.score == 0.5);
  metrics->add(logits_b, labels_b, loss_b);
  const train::MetricsSummary both = metrics->summary();
  CHECK(both.count == 3);
  CHECK(both.loss == (static_cast<double>(loss_a.item()) * 2 + static_cast<double>(loss_b.item())) / 3);
  CHECK(both.score == Approx(2.0 / 3));
  CHECK_THROWS_WITH(metrics->add(logits_b, labels_b, loss_b), Catch::Contains("more batches than the 2 planned"));
}

TEST_CASE("epoch metrics: a non-finite loss is reported as divergence, naming the step", "[train]") {
  const std::unique_ptr<train::Task> task = train::make_task(models::Task::classification, 2);
  const std::unique_ptr<train::EpochMetrics> metrics = task->epoch_metrics(2, 2, Device::cpu());
  const Tensor logits = Tensor::from_vector(std::vector<float>{1, 0}, {1, 2});
  const Tensor labels = Tensor::from_vector(std::vector<std::int32_t>{0}, {1});
  metrics->add(logits, labels, cross_entropy(logits, labels));
  metrics->add(logits, labels, Tensor::full({}, std::nanf(""), DType::f32, Device::cpu()));
  CHECK_THROWS_WITH(metrics->summary(), Catch::Contains("training diverged") && Catch::Contains("at step 2"));
}
