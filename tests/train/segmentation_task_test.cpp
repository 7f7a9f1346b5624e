#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "kiln/kiln.h"
#include "kiln/ops/loss.h"
#include "kiln/train/task.h"

using namespace kiln;

namespace {

// A "model" whose output is its input: the test's images are the logits.
class Identity : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
};

// One batch of given images and masks.
class FixedSource : public data::DataSource {
 public:
  FixedSource(Tensor images, Tensor masks, std::vector<std::string> classes)
      : images_(std::move(images)), masks_(std::move(masks)), classes_(std::move(classes)) {}
  std::int64_t size() const override { return images_.size(0); }
  const std::vector<std::string>& classes() const override { return classes_; }
  void start_epoch(std::vector<std::int64_t>, std::int64_t, std::optional<std::int64_t>) override { given_ = false; }
  std::optional<data::Batch> next() override {
    if (given_) return std::nullopt;
    given_ = true;
    return data::Batch{images_, masks_};
  }

 private:
  Tensor images_, masks_;
  std::vector<std::string> classes_;
  bool given_ = false;
};

// Two 2x2 images over 3 classes. Predictions (largest logit) and truths, pixel by pixel:
//   image 0: predicted 0 1 / 1 2, truth 0 1 / 2 255
//   image 1: predicted 0 0 / 2 2, truth 0 0 / 2 1
Tensor logits() {
  std::vector<float> values(2 * 3 * 4, 0.0f);
  const std::vector<int> predicted = {0, 1, 1, 2, 0, 0, 2, 2};
  for (int n = 0; n < 2; ++n) {
    for (int p = 0; p < 4; ++p) values[static_cast<std::size_t>((n * 3 + predicted[n * 4 + p]) * 4 + p)] = 2.0f;
  }
  return Tensor::from_vector(values, {2, 3, 2, 2});
}

Tensor truth() { return Tensor::from_vector(std::vector<std::int32_t>{0, 1, 2, 255, 0, 0, 2, 1}, {2, 2, 2}); }

}  // namespace

TEST_CASE("segmentation task: the loss is per-pixel cross-entropy that skips the ignore label", "[segmentation]") {
  const std::unique_ptr<train::Task> task = train::make_task(models::Task::segmentation, 3);
  const Tensor loss = task->loss(logits(), truth());
  CHECK(loss.item() == Approx(cross_entropy(logits(), truth(), 255).item()));
  // Seven counted pixels: 5 right (loss log(2 + e^2) - 2 each) and 2 wrong (log(2 + e^2)).
  const double right = std::log(2 + std::exp(2.0)) - 2, wrong = std::log(2 + std::exp(2.0));
  CHECK(loss.item() == Approx((5 * right + 2 * wrong) / 7));
  // Class weights weigh each pixel by its truth's weight.
  const std::unique_ptr<train::Task> weighted =
      train::make_task(models::Task::segmentation, 3, {{1.0, 0.0, 2.0}, 255, false});
  // Counted: class 0 x3 right (w 1), class 1 x2 (w 0), class 2 x2 (one right, one wrong; w 2).
  CHECK(weighted->loss(logits(), truth()).item() == Approx((3 * right + 2 * right + 2 * wrong) / 7));
  CHECK_THROWS_WITH(train::make_task(models::Task::segmentation, 3, {{1.0, 2.0}, 255, false}),
                    Catch::Contains("2 given for 3 classes"));
  CHECK_THROWS_WITH(train::make_task(models::Task::segmentation, 3, {{1.0, -2.0, 1.0}, 255, false}),
                    Catch::Contains("must be finite and not negative"));
}

TEST_CASE("segmentation task: epoch metrics count pixels on the device and score mean IoU", "[segmentation]") {
  const std::unique_ptr<train::Task> task = train::make_task(models::Task::segmentation, 3);
  const std::unique_ptr<train::EpochMetrics> metrics = task->epoch_metrics(3, 1, Device::cpu());
  metrics->add(logits(), truth(), task->loss(logits(), truth()));
  const train::MetricsSummary summary = metrics->summary();
  // Confusion [[3, 0, 0], [0, 1, 1], [0, 1, 1]]: IoU 1 for class 0, 1 / (2 + 2 - 1) = 1/3 for classes 1 and 2.
  CHECK(summary.score == Approx(5.0 / 9));
  CHECK(summary.images == 2);
  CHECK(summary.count == 8);
}

TEST_CASE("segmentation task: evaluation scores, ranks pixels for AP and reports the worst images", "[segmentation]") {
  const std::unique_ptr<train::Task> task = train::make_task(models::Task::segmentation, 3);
  Identity model;
  FixedSource source(logits(), truth(), {"sky", "wall", "door"});
  const std::unique_ptr<train::Evaluation> evaluation = task->evaluate(model, source, 2, Device::cpu());
  const train::MetricsSummary summary = evaluation->summary();
  CHECK(summary.score == Approx(5.0 / 9));
  CHECK(summary.images == 2);
  CHECK(summary.count == 7);
  const nlohmann::json json = nlohmann::json::parse(evaluation->json());
  CHECK(json["mean_iou"].get<double>() == Approx(5.0 / 9));
  CHECK(json["pixel_accuracy"].get<double>() == Approx(5.0 / 7));
  CHECK(json["average_precision_ranks"] == "probabilities");
  CHECK(json["average_precision_pixels"] == 7);
  CHECK(json["per_class"][1]["class"] == "wall");
  CHECK(json["per_class"][1]["iou"].get<double>() == Approx(1.0 / 3));
  // Class 0: its three pixels are ranked first (probability e^2 / (2 + e^2)) and no other pixel ties them: AP 1.
  CHECK(json["per_class"][0]["average_precision"].get<double>() == Approx(1.0));
  CHECK(json["confusion"] == nlohmann::json::parse("[[3, 0, 0], [0, 1, 1], [0, 1, 1]]"));
  const std::string table = evaluation->table();
  CHECK_THAT(table, Catch::Contains("mean IoU 0.5556") && Catch::Contains("wall"));

  // With class weights the evaluation's loss is the weighted mean, as the task's loss of the whole set.
  const std::unique_ptr<train::Task> weighted =
      train::make_task(models::Task::segmentation, 3, {{1.0, 0.0, 2.0}, 255, false});
  CHECK(weighted->evaluate(model, source, 2, Device::cpu())->summary().loss ==
        Approx(weighted->loss(logits(), truth()).item()));

  train::ReportContent content;
  content.title = "test";
  const std::string html = evaluation->html_report(content);
  CHECK_THAT(html, Catch::Contains("Worst segmented images") && Catch::Contains("data:image/png;base64,") &&
                       Catch::Contains("Pixel confusion matrix"));
}
