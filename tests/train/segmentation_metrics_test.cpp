#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "kiln/train/segmentation_metrics.h"

using namespace kiln;

namespace {

constexpr std::int32_t kIgnore = 255;

train::ConfusionMatrix zeros(std::size_t classes) {
  return train::ConfusionMatrix(classes, std::vector<std::int64_t>(classes, 0));
}

}  // namespace

TEST_CASE("segmentation metrics: pixels count into confusion[truth][predicted], ignored ones nowhere",
          "[segmentation]") {
  // Pixel 2 is ignored although its prediction is no class at all.
  const std::vector<std::int32_t> truth = {0, 1, kIgnore, 2, 1, 0};
  const std::vector<std::int32_t> predicted = {0, 2, 7, 2, 1, 1};
  train::ConfusionMatrix confusion = zeros(3);
  train::count_pixels(truth.data(), predicted.data(), 6, 3, kIgnore, confusion);
  CHECK(confusion == train::ConfusionMatrix{{1, 1, 0}, {0, 1, 1}, {0, 0, 1}});
  train::count_pixels(truth.data(), predicted.data(), 6, 3, kIgnore, confusion);  // accumulates
  CHECK(confusion == train::ConfusionMatrix{{2, 2, 0}, {0, 2, 2}, {0, 0, 2}});
  CHECK(train::segmentation_scores(confusion).pixels == 10);
}

TEST_CASE("segmentation metrics: a label outside the classes throws, naming the pixel and value", "[segmentation]") {
  train::ConfusionMatrix confusion = zeros(3);
  const std::vector<std::int32_t> valid = {0, 1, 2};
  const std::vector<std::int32_t> bad_truth = {0, 2, 3};
  const std::vector<std::int32_t> bad_prediction = {0, -1, 2};
  CHECK_THROWS_WITH(train::count_pixels(bad_truth.data(), valid.data(), 3, 3, kIgnore, confusion),
                    Catch::Contains("pixel 2 has truth label 3"));
  CHECK_THROWS_WITH(train::count_pixels(valid.data(), bad_prediction.data(), 3, 3, kIgnore, confusion),
                    Catch::Contains("pixel 1 has predicted label -1"));
  // The ignore label is only ignored in the truth: a prediction of 255 is no class.
  const std::vector<std::int32_t> ignore_predicted = {0, kIgnore, 2};
  CHECK_THROWS_WITH(train::count_pixels(valid.data(), ignore_predicted.data(), 3, 3, kIgnore, confusion),
                    Catch::Contains("pixel 1 has predicted label 255"));
  train::ConfusionMatrix too_small = zeros(2);
  CHECK_THROWS_WITH(train::count_pixels(valid.data(), valid.data(), 3, 3, kIgnore, too_small),
                    Catch::Contains("expected 3"));
  const std::vector<float> scores(9, 0.5f);
  CHECK_THROWS_WITH(train::average_precision(scores.data(), bad_truth.data(), 3, 3, kIgnore),
                    Catch::Contains("pixel 2 has truth label 3"));
}

TEST_CASE("segmentation metrics: IoU, accuracies and frequency-weighted IoU of a hand-made confusion matrix",
          "[segmentation]") {
  // Rows truth, columns prediction. Present t = 6, 6, 5, 0, 0; predicted 7, 4, 5, 1, 0; 17 pixels, 12 correct.
  // Class 3 is predicted but absent (IoU 0, accuracy undefined); class 4 is neither (both undefined).
  const train::ConfusionMatrix confusion = {
      {5, 1, 0, 0, 0}, {2, 3, 1, 0, 0}, {0, 0, 4, 1, 0}, {0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}};
  const train::SegmentationScores scores = train::segmentation_scores(confusion);
  REQUIRE(scores.iou.size() == 5);
  CHECK(scores.iou[0] == Approx(5.0 / 8));  // 5 / (6 + 7 - 5)
  CHECK(scores.iou[1] == Approx(3.0 / 7));  // 3 / (6 + 4 - 3)
  CHECK(scores.iou[2] == Approx(4.0 / 6));  // 4 / (5 + 5 - 4)
  CHECK(scores.iou[3] == 0.0);              // 0 / (0 + 1 - 0)
  CHECK(std::isnan(scores.iou[4]));
  CHECK(scores.mean_iou == Approx((5.0 / 8 + 3.0 / 7 + 4.0 / 6 + 0) / 4));
  CHECK(scores.accuracy[0] == Approx(5.0 / 6));
  CHECK(scores.accuracy[1] == Approx(3.0 / 6));
  CHECK(scores.accuracy[2] == Approx(4.0 / 5));
  CHECK(std::isnan(scores.accuracy[3]));
  CHECK(std::isnan(scores.accuracy[4]));
  CHECK(scores.mean_accuracy == Approx((5.0 / 6 + 3.0 / 6 + 4.0 / 5) / 3));
  CHECK(scores.pixel_accuracy == Approx(12.0 / 17));
  CHECK(scores.frequency_weighted_iou == Approx((6 * 5.0 / 8 + 6 * 3.0 / 7 + 5 * 4.0 / 6) / 17));
  CHECK(scores.pixels == 17);

  const train::SegmentationScores empty = train::segmentation_scores(zeros(2));
  CHECK(empty.pixels == 0);
  CHECK(std::isnan(empty.mean_iou));
  CHECK(std::isnan(empty.mean_accuracy));
  CHECK(std::isnan(empty.pixel_accuracy));
  CHECK(std::isnan(empty.frequency_weighted_iou));
  CHECK_THROWS_WITH(train::segmentation_scores({{1, 0}, {0}}), Catch::Contains("confusion row 1"));
}

TEST_CASE("segmentation metrics: average precision ranks pixels, equal scores forming one threshold",
          "[segmentation]") {
  // Scores [6 pixels, 3 classes]; pixel 5 is ignored, though it would top every ranking.
  const std::vector<std::int32_t> truth = {1, 0, 1, 0, 1, kIgnore};
  const std::vector<float> scores = {0.1f, 0.9f, 0.0f,  //
                                     0.8f, 0.5f, 0.0f,  //
                                     0.2f, 0.5f, 0.3f,  //
                                     0.8f, 0.5f, 0.0f,  //
                                     0.3f, 0.2f, 0.5f,  //
                                     1.0f, 1.0f, 1.0f};
  const std::vector<double> precision = train::average_precision(scores.data(), truth.data(), 6, 3, kIgnore);
  REQUIRE(precision.size() == 3);
  // Class 0: both positives share the top score, one threshold at precision 1 and recall 1.
  CHECK(precision[0] == Approx(1.0));
  // Class 1 by threshold: 0.9 holds 1 positive of 1 pixel (P 1, R 1/3); 0.5 adds 1 of 3 (P 2/4, R 2/3); 0.2 adds
  // 1 of 1 (P 3/5, R 1). AP = (1 + 1/2 + 3/5) / 3 = 0.7 (ranking the tie's positive first would give 13/15).
  CHECK(precision[1] == Approx(0.7));
  CHECK(std::isnan(precision[2]));  // absent from the truth
}

TEST_CASE("segmentation metrics: average precision of a strict ranking, of one tie, and of a non-finite score",
          "[segmentation]") {
  // Class 1 ranked +, -, +, -: AP = 1/2 * 1 + 1/2 * 2/3 = 5/6. Class 0 all tied: one threshold, AP = 2/4.
  const std::vector<std::int32_t> truth = {1, 0, 1, 0};
  const std::vector<float> scores = {0.5f, 0.9f, 0.5f, 0.8f, 0.5f, 0.7f, 0.5f, 0.1f};
  const std::vector<double> precision = train::average_precision(scores.data(), truth.data(), 4, 2, kIgnore);
  CHECK(precision[0] == Approx(0.5));
  CHECK(precision[1] == Approx(5.0 / 6));
  const std::vector<float> not_finite = {0.5f, 0.5f, 0.5f, std::numeric_limits<float>::quiet_NaN()};
  CHECK_THROWS_WITH(train::average_precision(not_finite.data(), truth.data(), 2, 2, kIgnore),
                    Catch::Contains("pixel 1 has score nan for class 1"));
}

TEST_CASE("segmentation metrics: JSON fields, class names and null for undefined values", "[segmentation]") {
  // t = 2, 2, 0; predicted 3, 1, 0. IoU 2/3, 1/2, undefined; FW-IoU (2 * 2/3 + 2 * 1/2) / 4 = 7/12.
  const train::SegmentationScores scores = train::segmentation_scores({{2, 0, 0}, {1, 1, 0}, {0, 0, 0}});
  const auto json = nlohmann::json::parse(train::to_json(scores, {"background", "item"}, {1.0, 0.5, std::nan("")}));
  CHECK(json["mean_iou"].get<double>() == Approx(7.0 / 12));
  CHECK(json["pixel_accuracy"].get<double>() == Approx(0.75));
  CHECK(json["mean_accuracy"].get<double>() == Approx(0.75));
  CHECK(json["frequency_weighted_iou"].get<double>() == Approx(7.0 / 12));
  CHECK(json["pixels"] == 4);
  REQUIRE(json["per_class"].size() == 3);
  CHECK(json["per_class"][0]["class"] == "background");
  CHECK(json["per_class"][0]["iou"].get<double>() == Approx(2.0 / 3));
  CHECK(json["per_class"][0]["accuracy"].get<double>() == Approx(1.0));
  CHECK(json["per_class"][1]["average_precision"].get<double>() == Approx(0.5));
  CHECK(json["per_class"][2]["class"] == "2");  // unnamed: its index
  CHECK(json["per_class"][2]["iou"].is_null());
  CHECK(json["per_class"][2]["accuracy"].is_null());
  CHECK(json["per_class"][2]["average_precision"].is_null());

  const auto without_precision = nlohmann::json::parse(train::to_json(scores, {}, {}));
  CHECK(without_precision["per_class"][0]["average_precision"].is_null());
  CHECK_THROWS_WITH(train::to_json(scores, {}, {1.0}), Catch::Contains("1 average precisions for 3 classes"));
}
