// kiln train: trains a model on Fashion-MNIST or an image folder with the library's Trainer, showing progress and
// handling Ctrl-C.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <type_traits>
#include <variant>

#include "kiln/threads.h"
#include "kiln/train/trainer.h"
#include "tools/commands.h"
#include "tools/device_flags.h"
#include "tools/model_flags.h"
#include "tools/progress.h"

namespace kiln::tools {

namespace {

using train::TrainConfig;

std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the SIGINT handler needs a lock-free flag");

// The first Ctrl-C asks for a clean stop; the handler then steps aside so that a second one ends the program.
void request_stop(int) {
  stop_requested.store(true);
  std::signal(SIGINT, SIG_DFL);
}

std::string text_of(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// kiln train's flag for a field; --help shows the default run's value.
cli::Option flag_of(const train::ConfigField& field) {
  std::string value_name = field.value_name;
  if (field.kind == train::FieldKind::choice && value_name.empty()) {
    for (const std::string& choice : field.choices) value_name.append(value_name.empty() ? "" : "|").append(choice);
  }
  const TrainConfig defaults;
  const std::string shown_default = std::visit(
      [&defaults](auto member) -> std::string {
        const auto& value = defaults.*member;
        using Value = std::remove_cvref_t<decltype(value)>;
        if constexpr (std::is_same_v<Value, std::string>) {
          return value;
        } else if constexpr (std::is_floating_point_v<Value>) {
          return text_of(value);
        } else if constexpr (std::is_integral_v<Value> && !std::is_same_v<Value, bool>) {
          return std::to_string(value);
        } else {
          return "";  // switches, and model options, which have their own flags
        }
      },
      field.member);
  return {field.flag, field.aliases, value_name, field.help, shown_default};
}

// Sets a field from its flag; model options come from the model's flags.
template <class Value>
void read_flag(const cli::Arguments& arguments, const train::ConfigField& field, Value& value) {
  if constexpr (std::is_same_v<Value, bool>) {
    value = true;
  } else if constexpr (std::is_integral_v<Value>) {
    value = static_cast<Value>(arguments.integer(field.flag, static_cast<long long>(field.min),
                                                 static_cast<long long>(field.max)));
  } else if constexpr (std::is_floating_point_v<Value>) {
    value = arguments.number(field.flag, field.min, field.max);
  } else if constexpr (std::is_same_v<Value, std::string>) {
    value = arguments.text(field.flag);
  } else {
    for (const auto& [key, option] : model_options_from(arguments)) value[key] = option;
  }
}

// Applies the flags given on the command line to `config`; flags not given leave it as it is, which is how a
// resumed run keeps its own settings. Errors name the flag.
TrainConfig apply_flags(const cli::Arguments& arguments, TrainConfig config) {
  for (const train::ConfigField& field : train::train_config_fields()) {
    if (!field.flag.empty() && !arguments.has(field.flag)) continue;
    std::visit([&](auto member) { read_flag(arguments, field, config.*member); }, field.member);
    try {
      train::check_field(config, field, field.flag);
    } catch (const Error& error) {
      throw cli::UsageError(error.what());
    }
  }
  return config;
}

// One progress line per progress update, redrawn in place on a terminal (at most ten times a second) and printed every
// five seconds otherwise, so that logs stay short. The trainer calls it at that interval
// (TrainHooks::progress_seconds).
class ProgressPrinter {
 public:
  ProgressPrinter() : terminal_(::isatty(STDOUT_FILENO) == 1) {}
  // Seconds between progress lines; the trainer reads the loss from the device only this often.
  double interval() const { return terminal_ ? 0.1 : 5.0; }

  void step(const train::StepProgress& progress) const {
    if (!terminal_ && progress.step == progress.steps) return;  // the epoch line follows at once
    char line[160];
    std::snprintf(line, sizeof line, "epoch %lld/%lld  step %lld/%lld  loss %.4f  %.0f img/s  ETA %s",
                  static_cast<long long>(progress.epoch), static_cast<long long>(progress.epochs),
                  static_cast<long long>(progress.step), static_cast<long long>(progress.steps), progress.loss,
                  progress.images_per_second, duration_text(progress.eta_seconds).c_str());
    std::cout << (terminal_ ? "\r\033[K" : "") << line << (terminal_ ? "" : "\n") << std::flush;
  }

  // `score` names the task's score ("acc", "mIoU").
  void epoch(const train::EpochStats& stats, std::int64_t epochs, const char* score) {
    char line[200];
    std::snprintf(line, sizeof line,
                  "epoch %lld/%lld: train loss %.4f %s %.2f%% | val loss %.4f %s %.2f%% | lr %.3g | %.1f s, "
                  "%.0f img/s%s",
                  static_cast<long long>(stats.epoch), static_cast<long long>(epochs), stats.train_loss, score,
                  100 * stats.train_accuracy, stats.val_loss, score, 100 * stats.val_accuracy, stats.lr, stats.seconds,
                  stats.images_per_second, stats.improved ? " (best)" : "");
    std::cout << (terminal_ ? "\r\033[K" : "") << line << "\n" << std::flush;
  }

  // Ends a line left open by a redrawn progress line.
  void finish_line() const {
    if (terminal_) std::cout << "\n";
  }

 private:
  bool terminal_;
};

std::string with_thousands(std::int64_t value) {
  const std::string digits = std::to_string(value);
  std::string grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return grouped;
}

int run_train(const cli::Arguments& arguments) {
  // Every flag is checked before any file is read, so that a mistyped one is a usage error even with --resume.
  const TrainConfig from_flags = apply_flags(arguments, TrainConfig{});
  std::cout << cuda_status_line() << "\n";
  const Device device = device_from_flags(arguments);
  const std::string out_dir = arguments.text("--out");
  const bool resume = arguments.flag("--resume");
  const std::string last_path = out_dir + "/last.safetensors";
  KILN_CHECK(!resume || std::filesystem::exists(last_path), "--resume: '", out_dir, "' holds no run to resume (no ",
             last_path, ")");
  KILN_CHECK(resume || !std::filesystem::exists(last_path), "--out ", out_dir, " already holds a run: pass --resume "
             "to continue it, or choose another --out");
  TrainConfig config = resume ? apply_flags(arguments, train::read_train_config(last_path)) : from_flags;
  config.out_dir = out_dir;
  const long long threads = arguments.integer("--threads", 0, 4096);
  config.device = device;
  if (threads > 0) set_num_threads(static_cast<int>(threads));
  if (!config.device.is_cuda()) std::cout << cpu_status_line() << "\n";

  train::ReaderSettings reader;
  reader.threads = static_cast<int>(arguments.integer("--reader-threads", 1, 256));
  reader.pin_memory = config.device.is_cuda();
  train::TrainingData data = train::load_training_data(config, reader);
  for (const data::SkippedFile& file : data.not_images) std::cout << "not an image, left out: " << file.path << "\n";
  train::Trainer trainer(config, std::move(data));
  if (resume) trainer.resume(last_path);
  std::cout << "model " << config.model << " " << trainer.progress().model_options << " ("
            << with_thousands(trainer.model().parameter_count()) << " parameters) on " << config.device.str()
            << ", " << num_threads() << " threads\n"
            << "data " << config.data << ": " << trainer.training_images() << " training, "
            << trainer.validation_images() << " validation images"
            << (trainer.progress().preprocess == "{}" ? "" : ", preprocess " + trainer.progress().preprocess) << "\n"
            << config.optimizer << " lr " << config.lr << ", weight decay " << config.weight_decay
            << (config.l2_all ? " (all variables)" : "") << ", batch "
            << (config.batch_schedule.empty() ? std::to_string(config.batch_size) : config.batch_schedule)
            << ", seed " << config.seed << ", run folder " << out_dir << "\n";
  if (resume) std::cout << "resuming " << last_path << " after epoch " << trainer.progress().epoch << "\n";
  if (trainer.progress().epoch >= config.epochs) {
    std::cout << "the run has completed " << trainer.progress().epoch << " epochs already; pass --epochs N with a "
              << "larger N to train further\n";
    return 0;
  }

  ProgressPrinter printer;
  train::TrainHooks hooks;
  hooks.on_step = [&printer](const train::StepProgress& progress) { printer.step(progress); };
  hooks.progress_seconds = printer.interval();
  hooks.on_epoch = [&](const train::EpochStats& stats) {
    printer.epoch(stats, config.epochs, trainer.task().score_name());
    if (stats.skipped > 0) std::cout << "skipped " << stats.skipped << " unreadable image files this epoch\n";
  };
  hooks.stop_requested = &stop_requested;
  stop_requested.store(false);
  const auto previous_handler = std::signal(SIGINT, request_stop);
  const train::TrainOutcome outcome = trainer.fit(hooks);
  std::signal(SIGINT, previous_handler);
  const std::vector<data::SkippedFile> skipped = trainer.skipped_files();
  if (!skipped.empty()) {
    printer.finish_line();
    std::cout << "skipped " << skipped.size() << " unreadable image files in all:\n";
    for (const data::SkippedFile& file : skipped) std::cout << "  " << file.path << ": " << file.reason << "\n";
  }

  if (outcome == train::TrainOutcome::interrupted) {
    printer.finish_line();
    std::cout << "interrupted: " << last_path << " holds the weights so far; a resume runs epoch "
              << trainer.progress().epoch + 1 << " again from its start.\nresume with: kiln train --out " << out_dir
              << " --resume\n";
    return 130;
  }
  if (outcome == train::TrainOutcome::early_stopped) {
    std::cout << "early stopping: no lower validation loss for " << config.early_stopping << " epochs\n";
  }
  std::cout << "best validation loss " << trainer.progress().best_val_loss << "; checkpoints in " << out_dir
            << " (best.safetensors, last.safetensors), log in " << out_dir << "/log.jsonl\n";
  return 0;
}

}  // namespace

cli::Command train_command() {
  std::vector<cli::Option> options;
  for (const train::ConfigField& field : train::train_config_fields()) {
    if (!field.flag.empty()) options.push_back(flag_of(field));
  }
  const std::vector<cli::Option> run_flags = {
      {"--out", {}, "DIR", "run folder: log.jsonl, best.safetensors, last.safetensors", "runs/train"},
      {"--resume", {}, "", "continue the run in --out from last.safetensors, with its settings unless given", ""},
      {"--reader-threads", {}, "N", "image folders: decoder threads", "4"},
      {"--threads", {}, "N", "CPU threads; 0 = KILN_NUM_THREADS or all cores", "0"},
  };
  options.insert(options.end(), run_flags.begin(), run_flags.end());
  for (cli::Option& flag : device_flags("where to train")) options.push_back(std::move(flag));
  for (cli::Option& flag : model_flags()) options.push_back(std::move(flag));
  return cli::Command("train", "train a classifier on Fashion-MNIST or an image folder (Ctrl-C stops cleanly; "
                      "--resume continues)",
                      std::move(options), run_train);
}

}  // namespace kiln::tools
