#include "kiln/train/segmentation_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "kiln/error.h"

namespace kiln::train {

namespace {

constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();

void check_truth(const char* op, std::int64_t pixel, std::int32_t label, std::int64_t classes,
                 std::int32_t ignore_label) {
  KILN_CHECK(label >= 0 && label < classes, op, ": pixel ", pixel, " has truth label ", label, ", not one of ", classes,
             " classes nor the ignore label ", ignore_label);
}

double ratio_or_undefined(std::int64_t numerator, std::int64_t denominator) {
  return denominator > 0 ? static_cast<double>(numerator) / static_cast<double>(denominator) : kUndefined;
}

// numpy.nanmean: the mean of the defined values, NaN when there are none.
double defined_mean(const std::vector<double>& values) {
  double sum = 0;
  std::int64_t count = 0;
  for (const double value : values) {
    if (std::isnan(value)) continue;
    sum += value;
    ++count;
  }
  return count > 0 ? sum / static_cast<double>(count) : kUndefined;
}

nlohmann::ordered_json number_or_null(double value) {
  return std::isnan(value) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(value);
}

}  // namespace

void count_pixels(const std::int32_t* truth, const std::int32_t* predicted, std::int64_t pixels, std::int64_t classes,
                  std::int32_t ignore_label, ConfusionMatrix& confusion) {
  KILN_CHECK(static_cast<std::int64_t>(confusion.size()) == classes, "count_pixels: the confusion matrix has ",
             confusion.size(), " rows, expected ", classes);
  for (std::int64_t pixel = 0; pixel < pixels; ++pixel) {
    if (truth[pixel] == ignore_label) continue;
    check_truth("count_pixels", pixel, truth[pixel], classes, ignore_label);
    KILN_CHECK(predicted[pixel] >= 0 && predicted[pixel] < classes, "count_pixels: pixel ", pixel,
               " has predicted label ", predicted[pixel], ", not one of ", classes, " classes");
    std::vector<std::int64_t>& row = confusion[static_cast<std::size_t>(truth[pixel])];
    KILN_CHECK(static_cast<std::int64_t>(row.size()) == classes, "count_pixels: confusion row ", truth[pixel], " has ",
               row.size(), " entries, expected ", classes);
    ++row[static_cast<std::size_t>(predicted[pixel])];
  }
}

SegmentationScores segmentation_scores(const ConfusionMatrix& confusion) {
  const std::size_t classes = confusion.size();
  std::vector<std::int64_t> present(classes, 0), predicted(classes, 0);
  std::int64_t hits = 0;
  SegmentationScores scores;
  for (std::size_t t = 0; t < classes; ++t) {
    KILN_CHECK(confusion[t].size() == classes, "segmentation_scores: confusion row ", t, " has ", confusion[t].size(),
               " entries, expected ", classes);
    for (std::size_t p = 0; p < classes; ++p) {
      present[t] += confusion[t][p];
      predicted[p] += confusion[t][p];
    }
    hits += confusion[t][t];
    scores.pixels += present[t];
  }
  double weighted_iou = 0;
  for (std::size_t c = 0; c < classes; ++c) {
    const std::int64_t hit = confusion[c][c];
    scores.iou.push_back(ratio_or_undefined(hit, present[c] + predicted[c] - hit));
    scores.accuracy.push_back(ratio_or_undefined(hit, present[c]));
    if (present[c] > 0) weighted_iou += static_cast<double>(present[c]) * scores.iou[c];
  }
  scores.mean_iou = defined_mean(scores.iou);
  scores.mean_accuracy = defined_mean(scores.accuracy);
  scores.pixel_accuracy = ratio_or_undefined(hits, scores.pixels);
  scores.frequency_weighted_iou = scores.pixels > 0 ? weighted_iou / static_cast<double>(scores.pixels) : kUndefined;
  return scores;
}

std::vector<double> average_precision(const float* scores, const std::int32_t* truth, std::int64_t pixels,
                                      std::int64_t classes, std::int32_t ignore_label) {
  for (std::int64_t pixel = 0; pixel < pixels; ++pixel) {
    if (truth[pixel] != ignore_label) check_truth("average_precision", pixel, truth[pixel], classes, ignore_label);
  }
  std::vector<double> precision(static_cast<std::size_t>(classes), kUndefined);
  std::vector<std::pair<float, bool>> ranked;  // (score, is this class), one class at a time
  ranked.reserve(static_cast<std::size_t>(pixels));
  for (std::int64_t c = 0; c < classes; ++c) {
    ranked.clear();
    std::int64_t positives = 0;
    for (std::int64_t pixel = 0; pixel < pixels; ++pixel) {
      if (truth[pixel] == ignore_label) continue;
      const float score = scores[pixel * classes + c];
      KILN_CHECK(std::isfinite(score), "average_precision: pixel ", pixel, " has score ", score, " for class ", c);
      ranked.emplace_back(score, truth[pixel] == c);
      positives += truth[pixel] == c ? 1 : 0;
    }
    if (positives == 0) continue;
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    // Each run of equal scores is one threshold: recall rises by its positives at the precision after the whole run.
    double sum = 0;
    std::int64_t true_positives = 0;
    for (std::size_t begin = 0; begin < ranked.size();) {
      std::size_t end = begin;
      std::int64_t run_positives = 0;
      for (; end < ranked.size() && ranked[end].first == ranked[begin].first; ++end) {
        run_positives += ranked[end].second ? 1 : 0;
      }
      true_positives += run_positives;
      sum += static_cast<double>(run_positives) * static_cast<double>(true_positives) / static_cast<double>(end);
      begin = end;
    }
    precision[static_cast<std::size_t>(c)] = sum / static_cast<double>(positives);
  }
  return precision;
}

std::string to_json(const SegmentationScores& scores, const std::vector<std::string>& classes,
                    const std::vector<double>& average_precision) {
  KILN_CHECK(average_precision.empty() || average_precision.size() == scores.iou.size(),
             "to_json: ", average_precision.size(), " average precisions for ", scores.iou.size(), " classes");
  nlohmann::ordered_json per_class = nlohmann::ordered_json::array();
  for (std::size_t c = 0; c < scores.iou.size(); ++c) {
    per_class.push_back(
        {{"class", c < classes.size() ? classes[c] : std::to_string(c)},
         {"iou", number_or_null(scores.iou[c])},
         {"accuracy", number_or_null(scores.accuracy[c])},
         {"average_precision", number_or_null(average_precision.empty() ? kUndefined : average_precision[c])}});
  }
  nlohmann::ordered_json json = {{"mean_iou", number_or_null(scores.mean_iou)},
                                 {"pixel_accuracy", number_or_null(scores.pixel_accuracy)},
                                 {"mean_accuracy", number_or_null(scores.mean_accuracy)},
                                 {"frequency_weighted_iou", number_or_null(scores.frequency_weighted_iou)},
                                 {"pixels", scores.pixels},
                                 {"per_class", per_class}};
  return json.dump();
}

}  // namespace kiln::train
