// kiln eval: a checkpoint's accuracy, loss, per-class scores and confusion matrix on the Fashion-MNIST test split.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "kiln/threads.h"
#include "kiln/atomic_file.h"
#include "kiln/data/idx.h"
#include "kiln/train/checkpoint.h"
#include "kiln/train/evaluation.h"
#include "kiln/train/html_report.h"
#include "tools/commands.h"
#include "tools/device_flags.h"

namespace kiln::tools {

namespace {

void print_table(const train::ClassificationReport& report) {
  std::size_t name_width = 13;  // "macro average"
  for (const std::string& name : report.classes) name_width = std::max(name_width, name.size());
  const int width = static_cast<int>(name_width);
  std::printf("accuracy %.2f%%  loss %.4f  (%lld images)\n\n", 100 * report.accuracy, report.loss,
              static_cast<long long>(report.count));
  std::printf("%-*s  precision  recall      f1  support\n", width, "class");
  double precision = 0, recall = 0, f1 = 0;
  for (std::size_t c = 0; c < report.per_class.size(); ++c) {
    const train::ClassScores& score = report.per_class[c];
    std::printf("%-*s  %9.4f  %6.4f  %6.4f  %7lld\n", width, report.classes[c].c_str(), score.precision,
                score.recall, score.f1, static_cast<long long>(score.support));
    precision += score.precision;
    recall += score.recall;
    f1 += score.f1;
  }
  const auto classes = static_cast<double>(std::max<std::size_t>(report.per_class.size(), 1));
  std::printf("%-*s  %9.4f  %6.4f  %6.4f  %7lld\n\n", width, "macro average", precision / classes, recall / classes,
              f1 / classes, static_cast<long long>(report.count));
  std::printf("confusion matrix (rows: true class, columns: predicted class)\n%*s", width + 4, "");
  for (std::size_t c = 0; c < report.confusion.size(); ++c) std::printf("%6zu", c);
  std::printf("\n");
  for (std::size_t t = 0; t < report.confusion.size(); ++t) {
    std::printf("%2zu %-*s ", t, width, report.classes[t].c_str());
    for (const std::int64_t count : report.confusion[t]) std::printf("%6lld", static_cast<long long>(count));
    std::printf("\n");
  }
}

// The report goes beside the checkpoint unless --report names another file; the log beside the checkpoint gives
// the curves.
std::string write_report(const std::string& checkpoint, const train::LoadedModel& loaded,
                         const train::ClassificationReport& evaluation, const data::LabelledImages& raw_test_set,
                         const std::string& report_flag) {
  const std::filesystem::path run_folder = std::filesystem::path(checkpoint).parent_path();
  const std::string path = report_flag.empty() ? (run_folder / "report.html").string() : report_flag;
  train::ReportContent content;
  content.title = loaded.info.model + " after epoch " + std::to_string(loaded.info.epoch);
  content.subtitle = "checkpoint " + checkpoint + ", Fashion-MNIST test split";
  content.epochs = train::read_training_log((run_folder / "log.jsonl").string());
  content.evaluation = evaluation;
  content.images = raw_test_set.images;
  const Tensor labels = raw_test_set.labels.cpu();
  content.labels.assign(labels.data<std::int32_t>(), labels.data<std::int32_t>() + labels.numel());
  write_file_atomically(path, train::render_html_report(content), "report");
  return path;
}

int run_eval(const cli::Arguments& arguments) {
  const std::string checkpoint = arguments.text("--checkpoint");
  const std::int64_t batch_size = arguments.integer("--batch-size", 1, 1 << 20);
  const bool json = arguments.flag("--json");
  const long long threads = arguments.integer("--threads", 0, 4096);
  const Device device = device_from_flags(arguments);
  if (threads > 0) set_num_threads(static_cast<int>(threads));

  const train::LoadedModel loaded = train::load_model(checkpoint);
  const data::LabelledImages raw_test_set = data::load_fashion_mnist(arguments.text("--data"), false);
  KILN_CHECK(loaded.info.classes == raw_test_set.classes, "checkpoint '", checkpoint,
             "' was trained on other classes than the Fashion-MNIST ones");
  data::LabelledImages test_set = raw_test_set;
  test_set.images = raw_test_set.images.clone();
  data::normalize(test_set.images, loaded.info.input);
  loaded.model->to(device);
  const train::ClassificationReport report = train::evaluate(*loaded.model, test_set, batch_size, device);
  const std::string report_path =
      arguments.flag("--no-report") ? "" : write_report(checkpoint, loaded, report, raw_test_set,
                                                  arguments.has("--report") ? arguments.text("--report") : "");
  if (json) {
    std::cout << train::to_json(report) << "\n";
  } else {
    std::cout << "checkpoint " << checkpoint << ": " << loaded.info.model << " after epoch " << loaded.info.epoch
              << ", on " << device.str() << "\n";
    std::cout.flush();
    print_table(report);
    if (!report_path.empty()) std::cout << "\nreport: " << report_path << "\n";
  }
  return 0;
}

}  // namespace

cli::Command eval_command() {
  std::vector<cli::Option> options = {
      {"--checkpoint", {}, "FILE", "a checkpoint written by kiln train (best.safetensors, last.safetensors)", ""},
      {"--data", {}, "DIR", "the Fashion-MNIST folder", data::fashion_mnist_default_folder},
      {"--json", {}, "", "print one JSON object instead of tables", ""},
      {"--report", {}, "FILE", "where to write the HTML report (default: report.html beside the checkpoint)", ""},
      {"--no-report", {}, "", "write no HTML report", ""},
      {"--batch-size", {"-b"}, "N", "images per forward pass", "500"},
      {"--threads", {}, "N", "CPU threads; 0 = KILN_NUM_THREADS or all cores", "0"},
  };
  for (cli::Option& flag : device_flags("where to evaluate")) options.push_back(std::move(flag));
  return cli::Command("eval", "evaluate a checkpoint on the Fashion-MNIST test split", std::move(options), run_eval);
}

}  // namespace kiln::tools
