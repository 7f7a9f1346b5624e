#include "kiln/train/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "kiln/error.h"
#include "train/html_parts.h"

namespace kiln::train {

std::vector<EpochRecord> read_training_log(const std::string& path) {
  std::ifstream file(path);
  if (!file) return {};
  std::map<std::int64_t, EpochRecord> by_epoch;
  std::string line;
  for (std::int64_t number = 1; std::getline(file, line); ++number) {
    if (line.empty()) continue;
    try {
      const nlohmann::json entry = nlohmann::json::parse(line);
      EpochRecord record;
      record.epoch = entry.at("epoch").get<std::int64_t>();
      record.train_loss = entry.at("train_loss").get<double>();
      record.train_accuracy = entry.at("train_accuracy").get<double>();
      record.val_loss = entry.at("val_loss").get<double>();
      record.val_accuracy = entry.at("val_accuracy").get<double>();
      by_epoch[record.epoch] = record;
    } catch (const nlohmann::json::exception& error) {
      fail("training log '", path, "', line ", number, ": ", error.what());
    }
  }
  std::vector<EpochRecord> records;
  for (const auto& [epoch, record] : by_epoch) records.push_back(record);
  return records;
}

namespace {

using namespace html;

std::string class_name(const ClassificationReport& report, std::size_t c) {
  return c < report.classes.size() ? report.classes[c] : std::to_string(c);
}

std::string f1_chart(const ClassificationReport& report) {
  std::vector<double> f1;
  for (const ClassScores& score : report.per_class) f1.push_back(score.f1);
  return bar_chart("F1", report.classes, f1);
}

std::string class_table(const ClassificationReport& report) {
  std::ostringstream html;
  html << "<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>";
  for (std::size_t c = 0; c < report.per_class.size(); ++c) {
    const ClassScores& score = report.per_class[c];
    html << "<tr><td>" << escape_html(class_name(report, c)) << "</td><td>" << format("%.4f", score.precision)
         << "</td><td>" << format("%.4f", score.recall) << "</td><td>" << format("%.4f", score.f1) << "</td><td>"
         << score.support << "</td></tr>";
  }
  html << "</table>";
  return html.str();
}

// The most confident mistakes first (ties in the set's order), each with its true and predicted class.
std::string mistakes_grid(const ReportContent& content) {
  const ClassificationReport& report = content.evaluation;
  if (!content.images.defined()) return "";
  const Tensor& images = content.images;
  KILN_CHECK(images.dim() == 4 && images.dtype() == DType::f32 && images.device().is_cpu() &&
                 (images.size(1) == 1 || images.size(1) == 3) &&
                 images.size(0) == static_cast<std::int64_t>(report.predictions.size()) &&
                 images.size(0) == static_cast<std::int64_t>(content.labels.size()),
             "report: expected float32 CPU images [N, 1 or 3, H, W] with one prediction and label each, got ",
             describe(images), " with ", report.predictions.size(), " predictions and ", content.labels.size(),
             " labels");
  std::vector<std::int64_t> mistakes;
  for (std::size_t i = 0; i < report.predictions.size(); ++i) {
    if (report.predictions[i].predicted_class != content.labels[i]) mistakes.push_back(static_cast<std::int64_t>(i));
  }
  std::stable_sort(mistakes.begin(), mistakes.end(), [&](std::int64_t a, std::int64_t b) {
    return report.predictions[static_cast<std::size_t>(a)].probability >
           report.predictions[static_cast<std::size_t>(b)].probability;
  });
  const std::size_t shown = std::min(mistakes.size(), static_cast<std::size_t>(std::max<std::int64_t>(
                                                          content.mistakes_shown, 0)));
  std::ostringstream html;
  html << "<h2>Misclassified images</h2><p>" << shown << " of " << mistakes.size()
       << " mistakes, the most confident first.</p><div class=\"grid\">";
  for (std::size_t k = 0; k < shown; ++k) {
    const auto index = static_cast<std::size_t>(mistakes[k]);
    const Prediction& prediction = report.predictions[index];
    html << "<figure><img alt=\"image " << index << "\" src=\"" << png_data_uri(images, mistakes[k])
         << "\"><figcaption>#" << index << "<br>true: "
         << escape_html(class_name(report, static_cast<std::size_t>(content.labels[index])))
         << "<br>predicted: " << escape_html(class_name(report, static_cast<std::size_t>(prediction.predicted_class)))
         << " (" << format("%.0f", 100.0 * prediction.probability) << "%)</figcaption></figure>";
  }
  html << "</div>";
  return html.str();
}

}  // namespace

std::string render_html_report(const ReportContent& content) {
  const ClassificationReport& report = content.evaluation;
  std::ostringstream html;
  html << page_start(content.title, content.subtitle);
  html << "<p class=\"summary\"><span>accuracy <b>" << format("%.2f", 100 * report.accuracy)
       << "%</b></span><span>loss <b>" << format("%.4f", report.loss) << "</b></span><span>" << report.count
       << " images</span></p>\n";
  html << "<h2>Training curves</h2>" << curves_section(content.epochs, "accuracy") << "\n";
  html << "<h2>Per-class scores</h2><div class=\"row\">" << class_table(report) << f1_chart(report) << "</div>\n";
  html << "<h2>Confusion matrix</h2>" << confusion_heat_map(report.classes, report.confusion, "images") << "\n";
  html << mistakes_grid(content) << "\n</body></html>\n";
  return html.str();
}

}  // namespace kiln::train
