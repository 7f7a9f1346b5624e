// kiln eval: a checkpoint's loss, its task's scores (for classifiers: accuracy, per-class precision, recall and F1,
// the confusion matrix) and the HTML report, on any data kiln train accepts: the Fashion-MNIST folder (its test
// split), Tiny ImageNet (its val/) or a class-per-subfolder image folder.
#include <filesystem>
#include <iostream>

#include "kiln/atomic_file.h"
#include "kiln/data/idx.h"
#include "kiln/models/registry.h"
#include "kiln/threads.h"
#include "kiln/train/checkpoint.h"
#include "kiln/train/task.h"
#include "kiln/train/training_data.h"
#include "tools/commands.h"
#include "tools/device_flags.h"

namespace kiln::tools {

namespace {

// The report goes beside the checkpoint unless --report names another file; the log beside the checkpoint gives
// the curves.
std::string write_report(const std::string& checkpoint, const train::LoadedModel& loaded,
                         const train::Evaluation& evaluation, const train::EvaluationData& data,
                         const std::string& report_flag) {
  const std::filesystem::path run_folder = std::filesystem::path(checkpoint).parent_path();
  const std::string path = report_flag.empty() ? (run_folder / "report.html").string() : report_flag;
  train::ReportContent content;
  content.title = loaded.info.model + " after epoch " + std::to_string(loaded.info.epoch);
  content.subtitle = "checkpoint " + checkpoint + ", " + data.description;
  content.epochs = train::read_training_log((run_folder / "log.jsonl").string());
  content.images = data.raw_images;
  content.labels = data.labels;
  content.input = loaded.info.input;
  content.class_colors = loaded.info.class_colors;
  write_file_atomically(path, evaluation.html_report(std::move(content)), "report");
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
  train::ReaderSettings reader;
  reader.threads = static_cast<int>(arguments.integer("--reader-threads", 1, 256));
  reader.pin_memory = device.is_cuda();
  const train::EvaluationData data = train::evaluation_data(loaded.info, arguments.text("--data"), reader);
  for (const data::SkippedFile& file : data.not_images) std::cerr << "not an image, left out: " << file.path << "\n";
  loaded.model->to(device);
  const train::TrainConfig run = train::train_config_from_json(loaded.info.train_config);
  const std::unique_ptr<train::Task> task = train::make_task(
      models::model_family(loaded.info.model).task, static_cast<std::int64_t>(loaded.info.classes.size()),
      {train::class_weights(run), static_cast<std::int32_t>(run.ignore_label), arguments.flag("--rank-logits")});
  const std::unique_ptr<train::Evaluation> evaluation =
      task->evaluate(*loaded.model, *data.source, batch_size, device);
  for (const data::SkippedFile& file : data.source->skipped()) {
    std::cerr << "skipped " << file.path << ": " << file.reason << "\n";
  }
  const std::string report_path =
      arguments.flag("--no-report") ? "" : write_report(checkpoint, loaded, *evaluation, data,
                                                        arguments.has("--report") ? arguments.text("--report") : "");
  if (json) {
    std::cout << evaluation->json() << "\n";
  } else {
    std::cout << "checkpoint " << checkpoint << ": " << loaded.info.model << " after epoch " << loaded.info.epoch
              << ", on " << device.str() << ", " << data.description << "\n"
              << evaluation->table();
    if (!report_path.empty()) std::cout << "\nreport: " << report_path << "\n";
  }
  return 0;
}

}  // namespace

cli::Command eval_command() {
  std::vector<cli::Option> options = {
      {"--checkpoint", {}, "FILE", "a checkpoint written by kiln train (best.safetensors, last.safetensors)", ""},
      {"--data", {}, "DIR",
       "the Fashion-MNIST folder (its test split), Tiny ImageNet (its val/), a class-per-subfolder image folder, or "
       "a segmentation set (DIR/images, DIR/masks)",
       data::fashion_mnist_default_folder},
      {"--json", {}, "", "print one JSON object instead of tables", ""},
      {"--rank-logits", {}, "", "segmentation: rank pixels by raw logits, not probabilities, for average precision",
       ""},
      {"--report", {}, "FILE", "where to write the HTML report (default: report.html beside the checkpoint)", ""},
      {"--no-report", {}, "", "write no HTML report", ""},
      {"--batch-size", {"-b"}, "N", "images per forward pass", "500"},
      {"--reader-threads", {}, "N", "image folders: decoder threads", "4"},
      {"--threads", {}, "N", "CPU threads; 0 = KILN_NUM_THREADS or all cores", "0"},
  };
  for (cli::Option& flag : device_flags("where to evaluate")) options.push_back(std::move(flag));
  return cli::Command("eval", "evaluate a checkpoint on a test set: scores, table or JSON, HTML report",
                      std::move(options), run_eval);
}

}  // namespace kiln::tools
