// Segmentation: logits [N, C, H, W] against int32 masks [N, H, W] with an ignore label; per-pixel cross-entropy; a
// pixel confusion matrix on the device during training (mean IoU as the score); in evaluation the FCN scores,
// per-class average precision over ranked pixels, and the images segmented worst for the report.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kiln/autograd.h"
#include "kiln/data/mask_image.h"
#include "kiln/ops/loss.h"
#include "kiln/train/confusion_metrics.h"
#include "kiln/train/segmentation_metrics.h"
#include "kiln/train/task.h"
#include "train/html_parts.h"
#include "train/task_loss.h"

namespace kiln::train {

namespace {

// Pixel scores kept for average precision: beyond this many values, every k-th pixel (a fixed stride over the set)
// is kept instead, and the JSON says how many pixels were ranked.
constexpr std::int64_t max_ranked_values = std::int64_t(1) << 25;
constexpr std::size_t worst_images_kept = 12;

// One evaluated image that the report may show: its input as the model saw it, the truth and the prediction.
struct ShownImage {
  std::int64_t index = 0;  // in the source's order
  double mean_iou = 0;
  Tensor image;  // float [3, H, W], normalised
  data::Mask truth, prediction;
};

struct SegmentationReport {
  double loss = 0;  // mean cross-entropy per counted pixel (weighted by class when the run weighs classes)
  std::int32_t ignore_label = data::default_ignore_label;
  std::int64_t images = 0;
  std::vector<std::string> classes;
  ConfusionMatrix confusion;
  SegmentationScores scores;
  std::vector<double> average_precision;
  std::int64_t ranked_pixels = 0;
  bool rank_logits = false;
  std::vector<ShownImage> worst;  // lowest mean IoU first
};

class SegmentationEvaluation : public Evaluation {
 public:
  explicit SegmentationEvaluation(SegmentationReport report) : report_(std::move(report)) {}

  MetricsSummary summary() const override {
    const double score = std::isfinite(report_.scores.mean_iou) ? report_.scores.mean_iou : 0.0;
    return {report_.loss, score, report_.scores.pixels, report_.images};
  }

  std::string table() const override {
    std::string text;
    const auto append = [&text](const char* format, auto... values) {
      char line[512];
      std::snprintf(line, sizeof line, format, values...);
      text += line;
    };
    const SegmentationScores& scores = report_.scores;
    append("mean IoU %.4f  pixel accuracy %.4f  mean accuracy %.4f  frequency-weighted IoU %.4f\n", scores.mean_iou,
           scores.pixel_accuracy, scores.mean_accuracy, scores.frequency_weighted_iou);
    append("loss %.4f  (%lld images, %lld pixels counted)\n\n", report_.loss, static_cast<long long>(report_.images),
           static_cast<long long>(scores.pixels));
    std::size_t width = 10;
    for (const std::string& name : report_.classes) width = std::max(width, name.size());
    append("%-*s     IoU  accuracy  AP (%s)\n", static_cast<int>(width), "class",
           report_.rank_logits ? "logits" : "probabilities");
    double ap_sum = 0;
    std::int64_t ap_count = 0;
    for (std::size_t c = 0; c < scores.iou.size(); ++c) {
      const double ap = c < report_.average_precision.size() ? report_.average_precision[c] : NAN;
      append("%-*s  %6.4f  %8.4f  %6.4f\n", static_cast<int>(width), class_name(c).c_str(), scores.iou[c],
             scores.accuracy[c], ap);
      if (std::isfinite(ap)) {
        ap_sum += ap;
        ++ap_count;
      }
    }
    append("%-*s  %6.4f  %8.4f  %6.4f\n", static_cast<int>(width), "mean", scores.mean_iou, scores.mean_accuracy,
           ap_count > 0 ? ap_sum / static_cast<double>(ap_count) : NAN);
    append("(nan: the class is neither in the truth nor predicted, or absent from the truth)\n");
    return text;
  }

  std::string json() const override {
    nlohmann::json json = nlohmann::json::parse(to_json(report_.scores, report_.classes, report_.average_precision));
    json["loss"] = report_.loss;
    json["images"] = report_.images;
    json["average_precision_ranks"] = report_.rank_logits ? "logits" : "probabilities";
    json["average_precision_pixels"] = report_.ranked_pixels;
    json["confusion"] = report_.confusion;
    return json.dump();
  }

  std::string html_report(ReportContent content) const override {
    using namespace html;
    const SegmentationScores& scores = report_.scores;
    std::ostringstream page;
    page << page_start(content.title, content.subtitle);
    page << "<p class=\"summary\"><span>mean IoU <b>" << format("%.4f", scores.mean_iou)
         << "</b></span><span>pixel accuracy <b>" << format("%.2f", 100 * scores.pixel_accuracy)
         << "%</b></span><span>loss <b>" << format("%.4f", report_.loss) << "</b></span><span>" << report_.images
         << " images</span></p>\n";
    page << "<h2>Training curves</h2>" << curves_section(content.epochs, "mean IoU") << "\n";
    page << "<h2>Per-class scores</h2><div class=\"row\">" << bar_chart("IoU", report_.classes, scores.iou)
         << bar_chart(report_.rank_logits ? "AP (logits)" : "AP", report_.classes, report_.average_precision)
         << "</div>\n";
    page << "<h2>Pixel confusion matrix</h2>" << confusion_heat_map(report_.classes, report_.confusion, "pixels")
         << "\n";
    page << worst_images(content) << "\n</body></html>\n";
    return page.str();
  }

 private:
  std::string class_name(std::size_t c) const {
    return c < report_.classes.size() ? report_.classes[c] : std::to_string(c);
  }

  // Image | truth | prediction, the truth and prediction as overlays in the classes' colours.
  std::string worst_images(const ReportContent& content) const {
    using namespace html;
    if (report_.worst.empty()) return "";
    const data::ClassList classes = data::class_list(report_.classes, content.class_colors);
    std::ostringstream section;
    section << "<h2>Worst segmented images</h2><p>" << report_.worst.size()
            << " images with the lowest mean IoU: image, truth, prediction (white: ignored).</p>"
            << "<div class=\"grid segmentation\">";
    for (const ShownImage& shown : report_.worst) {
      const data::Image image = denormalized(shown.image, content.input);
      const auto overlay = [&](const data::Mask& mask) {
        return png_data_uri(
            data::overlay_mask(image, data::colorize_mask(mask, classes, {255, 255, 255}, report_.ignore_label)));
      };
      section << "<figure><img alt=\"image " << shown.index << "\" src=\"" << png_data_uri(data::to_image_bytes(image))
              << "\"><img alt=\"truth\" src=\"" << overlay(shown.truth) << "\"><img alt=\"prediction\" src=\""
              << overlay(shown.prediction) << "\"><figcaption>#" << shown.index << ": mean IoU "
              << format("%.3f", shown.mean_iou) << "</figcaption></figure>";
    }
    section << "</div>";
    return section.str();
  }

  // The image as it was before normalisation, in [0, 1] (without statistics: as it is).
  static data::Image denormalized(const Tensor& normalized, const data::Normalization& input) {
    data::Image image{normalized.size(1), normalized.size(2), normalized.to_vector()};
    const std::int64_t plane = image.height * image.width;
    for (std::size_t c = 0; c < 3 && c < input.mean.size() && c < input.std.size(); ++c) {
      for (std::int64_t p = 0; p < plane; ++p) {
        float& value = image.pixels[static_cast<std::size_t>(static_cast<std::int64_t>(c) * plane + p)];
        value = std::clamp(static_cast<float>(value * input.std[c] + input.mean[c]), 0.0f, 1.0f);
      }
    }
    return image;
  }

  SegmentationReport report_;
};

class SegmentationTask : public Task {
 public:
  SegmentationTask(std::int64_t classes, const TaskOptions& options)
      : classes_(classes), options_(options), loss_(options.class_weights, options.ignore_label) {}
  const char* score_name() const override { return "mIoU"; }

  Tensor loss(const Tensor& outputs, const Tensor& targets) const override { return loss_(outputs, targets); }

  std::unique_ptr<EpochMetrics> epoch_metrics(std::int64_t classes, std::int64_t max_batches,
                                              Device device) const override {
    return std::make_unique<ConfusionMetrics>(classes, max_batches, device, options_.ignore_label,
                                              [](const ConfusionMatrix& confusion) {
                                                return segmentation_scores(confusion).mean_iou;
                                              });
  }

  std::unique_ptr<Evaluation> evaluate(nn::Module& model, data::DataSource& source, std::int64_t batch_size,
                                       Device device) const override;

 private:
  std::int64_t classes_;
  TaskOptions options_;
  TaskLoss loss_;
};

std::unique_ptr<Evaluation> SegmentationTask::evaluate(nn::Module& model, data::DataSource& source,
                                                       std::int64_t batch_size, Device device) const {
  const EvalModeGuard eval_mode(model);
  const NoGradGuard no_grad;
  SegmentationReport report;
  report.classes = source.classes();
  report.rank_logits = options_.rank_logits;
  report.ignore_label = options_.ignore_label;
  const auto classes = static_cast<std::size_t>(classes_);
  report.confusion.assign(classes, std::vector<std::int64_t>(classes, 0));
  std::vector<float> ranked_scores;
  std::vector<std::int32_t> ranked_truth;
  std::int64_t stride = 0, pixel_index = 0;
  double loss_sum = 0;
  double weight_sum = 0;
  std::int64_t image_index = 0;
  source.start_epoch(data::sequential_order(source.size()), batch_size, std::nullopt);
  while (const std::optional<data::Batch> batch = source.next()) {
    const Tensor& truth = batch->labels;
    const Tensor device_logits = model(batch->images.to(device));
    KILN_CHECK(device_logits.dim() == 4 && device_logits.size(1) == classes_ &&
                   device_logits.size(0) == truth.size(0) && device_logits.size(2) == truth.size(1) &&
                   device_logits.size(3) == truth.size(2),
               "segmentation evaluation: the model gives ", shape_str(device_logits.shape()), " for masks ",
               shape_str(truth.shape()), " of ", classes_, " classes");
    // The batch's loss on the model's device; it is the mean over the batch's counted weight (pixels, or their
    // class weights), so batches add up by that weight.
    const double batch_loss = loss(device_logits, truth.to(device)).item();
    const Tensor logits = device_logits.cpu().to(DType::f32);
    const std::int64_t rows = logits.size(0), height = logits.size(2), width = logits.size(3);
    const std::int64_t plane = height * width;
    if (stride == 0) {
      const std::int64_t values = source.size() * plane * classes_;
      stride = std::max<std::int64_t>(1, (values + max_ranked_values - 1) / max_ranked_values);
    }
    const std::int32_t* labels = truth.data<std::int32_t>();
    double weight = 0;
    for (std::int64_t p = 0; p < truth.numel(); ++p) {
      if (labels[p] == options_.ignore_label) continue;
      weight += options_.class_weights.empty() ? 1.0 : options_.class_weights[static_cast<std::size_t>(labels[p])];
    }
    loss_sum += batch_loss * weight;
    weight_sum += weight;

    const float* scores = logits.data<float>();
    std::vector<data::Mask> predictions = data::predicted_masks(logits);
    std::vector<double> row(classes);
    for (std::int64_t n = 0; n < rows; ++n, ++image_index) {
      data::Mask& prediction = predictions[static_cast<std::size_t>(n)];
      const float* image_scores = scores + n * classes_ * plane;
      const std::int32_t* image_truth = labels + n * plane;
      for (std::int64_t p = 0; p < plane; ++p) {
        const std::int64_t best = prediction.labels[static_cast<std::size_t>(p)];
        if (image_truth[p] == options_.ignore_label || pixel_index++ % stride != 0) continue;
        // The pixel's class scores, as softmax probabilities (stable: every exponent <= 0) unless logits rank.
        const double top = image_scores[best * plane + p];
        double total = 0;
        for (std::int64_t c = 0; c < classes_; ++c) {
          row[static_cast<std::size_t>(c)] = std::exp(image_scores[c * plane + p] - top);
          total += row[static_cast<std::size_t>(c)];
        }
        for (std::int64_t c = 0; c < classes_; ++c) {
          ranked_scores.push_back(options_.rank_logits ? image_scores[c * plane + p]
                                                       : static_cast<float>(row[static_cast<std::size_t>(c)] / total));
        }
        ranked_truth.push_back(image_truth[p]);
      }
      ConfusionMatrix own(classes, std::vector<std::int64_t>(classes, 0));
      count_pixels(image_truth, prediction.labels.data(), plane, classes_, options_.ignore_label, own);
      for (std::size_t t = 0; t < classes; ++t) {
        for (std::size_t q = 0; q < classes; ++q) report.confusion[t][q] += own[t][q];
      }
      const double image_iou = segmentation_scores(own).mean_iou;
      if (!std::isfinite(image_iou)) continue;  // every pixel ignored
      const bool shown = report.worst.size() < worst_images_kept || image_iou < report.worst.back().mean_iou;
      if (!shown) continue;
      ShownImage entry{image_index, image_iou, batch->images.narrow(0, n, 1).reshape({3, height, width}).clone(),
                       data::Mask{height, width, std::vector<std::int32_t>(image_truth, image_truth + plane)},
                       std::move(prediction)};
      report.worst.insert(
          std::upper_bound(report.worst.begin(), report.worst.end(), image_iou,
                           [](double value, const ShownImage& other) { return value < other.mean_iou; }),
          std::move(entry));
      if (report.worst.size() > worst_images_kept) report.worst.pop_back();
    }
    report.images += rows;
  }
  report.loss = weight_sum > 0 ? loss_sum / weight_sum : 0.0;
  report.scores = segmentation_scores(report.confusion);
  report.ranked_pixels = static_cast<std::int64_t>(ranked_truth.size());
  report.average_precision = average_precision(ranked_scores.data(), ranked_truth.data(), report.ranked_pixels,
                                               classes_, options_.ignore_label);
  return std::make_unique<SegmentationEvaluation>(std::move(report));
}

}  // namespace

std::unique_ptr<Task> make_segmentation_task(std::int64_t classes, const TaskOptions& options) {
  KILN_CHECK(classes > 0, "segmentation task: needs at least one class");
  return std::make_unique<SegmentationTask>(classes, options);
}

}  // namespace kiln::train
