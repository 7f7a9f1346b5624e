#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include "kiln/train/html_report.h"

using namespace kiln;

namespace {

std::string temporary_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("kiln_report_test_" + name)).string();
}

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++count;
  return count;
}

}  // namespace

TEST_CASE("report: the training log keeps the last line of each epoch, in epoch order", "[train]") {
  const std::string path = temporary_path("log.jsonl");
  {
    std::ofstream log(path);
    const char* line = R"({"epoch":%d,"train_loss":%g,"train_accuracy":0.5,"val_loss":1,"val_accuracy":0.25})";
    char text[200];
    for (const auto& [epoch, loss] : {std::pair{2, 0.7}, std::pair{1, 0.9}, std::pair{2, 0.6}}) {
      std::snprintf(text, sizeof text, line, epoch, loss);
      log << text << "\n";
    }
  }
  const std::vector<train::EpochRecord> records = train::read_training_log(path);
  REQUIRE(records.size() == 2);
  CHECK(records[0].epoch == 1);
  CHECK(records[0].train_loss == 0.9);
  CHECK(records[1].epoch == 2);
  CHECK(records[1].train_loss == 0.6);  // the resumed run's line wins
  CHECK(records[1].val_accuracy == 0.25);

  std::ofstream(path, std::ios::app) << "{\"epoch\": 3}\n";
  CHECK_THROWS_WITH(train::read_training_log(path), Catch::Contains(path) && Catch::Contains("line 4"));
  std::filesystem::remove(path);
  CHECK(train::read_training_log(path).empty());
}

TEST_CASE("report: curves, F1 bars, heat map and the most confident mistakes first", "[train]") {
  train::ReportContent content;
  content.title = "tiny <net>";
  content.epochs = {{1, 1.0, 0.5, 1.1, 0.4}, {2, 0.8, 0.6, 0.9, 0.5}};
  train::ClassificationReport& evaluation = content.evaluation;
  evaluation.classes = {"cat & dog", "bird", "fish"};
  // Truth 0, 1, 2, 0; predictions 0 (right), 2 (wrong, 60%), 2 (right), 1 (wrong, 90%).
  content.labels = {0, 1, 2, 0};
  evaluation.predictions = {{0, 0.8f}, {2, 0.6f}, {2, 0.7f}, {1, 0.9f}};
  evaluation.confusion = {{1, 1, 0}, {0, 0, 1}, {0, 0, 1}};
  evaluation.per_class = train::class_scores(evaluation.confusion);
  evaluation.accuracy = train::accuracy(evaluation.confusion);
  evaluation.count = 4;
  content.images = Tensor::from_vector(std::vector<float>(4 * 2 * 2, 0.5f), {4, 1, 2, 2});

  const std::string html = train::render_html_report(content);
  CHECK(html.find("<title>tiny &lt;net&gt;</title>") != std::string::npos);
  CHECK(html.find("cat &amp; dog") != std::string::npos);
  CHECK(html.find("accuracy <b>50.00%</b>") != std::string::npos);
  CHECK(occurrences(html, "<svg") == 4);      // loss, accuracy, F1, confusion
  CHECK(occurrences(html, "<polyline") == 4);  // train and validation in each curve chart
  CHECK(occurrences(html, "<figure>") == 2);   // the two mistakes
  // A PNG's first bytes (\x89PNG\r\n\x1a\n) in base64.
  CHECK(occurrences(html, "src=\"data:image/png;base64,iVBORw0KGgo") == 2);
  CHECK(html.find("http") == std::string::npos);  // nothing to fetch
  const std::size_t first = html.find("alt=\"image 3\""), second = html.find("alt=\"image 1\"");
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  CHECK(first < second);  // 90% before 60%

  content.labels.pop_back();
  CHECK_THROWS_WITH(train::render_html_report(content), Catch::Contains("one prediction and label each"));
}
