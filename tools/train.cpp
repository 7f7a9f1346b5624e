// kiln train: trains a model on Fashion-MNIST or an image folder with the library's Trainer, showing progress and
// handling Ctrl-C.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "kiln/threads.h"
#include "kiln/data/idx.h"
#include "kiln/models/registry.h"
#include "kiln/train/trainer.h"
#include "tools/commands.h"
#include "tools/device_flags.h"
#include "tools/model_flags.h"

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

std::string duration_text(double seconds) {
  const auto whole = static_cast<long long>(seconds + 0.5);
  char text[32];
  if (whole >= 3600) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", whole / 3600, whole / 60 % 60);
  } else if (whole >= 60) {
    std::snprintf(text, sizeof text, "%lldm%02llds", whole / 60, whole % 60);
  } else {
    std::snprintf(text, sizeof text, "%llds", whole);
  }
  return text;
}

std::string one_of(const std::string& flag, const std::string& value, const std::vector<std::string>& valid) {
  std::string listed;
  for (const std::string& candidate : valid) {
    if (candidate == value) return value;
    listed.append(listed.empty() ? "" : ", ").append(candidate);
  }
  throw cli::UsageError(flag + ": '" + value + "' is not one of " + listed);
}

// Applies the flags given on the command line to `config`; flags not given leave it as it is, which is how a
// resumed run keeps its own settings.
TrainConfig apply_flags(const cli::Arguments& arguments, TrainConfig config) {
  const auto given = [&arguments](const char* flag) { return arguments.has(flag); };
  constexpr long long huge = 1'000'000'000;
  if (given("--model")) config.model = one_of("--model", arguments.text("--model"), models::model_names());
  if (given("--epochs")) config.epochs = arguments.integer("--epochs", 0, huge);
  if (given("--batch-size")) config.batch_size = arguments.integer("--batch-size", 1, 1 << 20);
  if (given("--optimizer")) config.optimizer = one_of("--optimizer", arguments.text("--optimizer"), {"adam", "sgd"});
  if (given("--lr")) config.lr = arguments.number("--lr", 1e-12, 100);
  if (given("--lr-decay-rate")) config.lr_decay_rate = arguments.number("--lr-decay-rate", 1e-12, 100);
  if (given("--lr-decay-steps")) config.lr_decay_steps = arguments.number("--lr-decay-steps", 1e-6, 1e15);
  if (given("--lr-staircase")) config.lr_staircase = true;
  if (given("--weight-decay")) config.weight_decay = arguments.number("--weight-decay", 0, 100);
  if (given("--momentum")) config.momentum = arguments.number("--momentum", 0, 1);
  if (given("--seed")) config.seed = static_cast<std::uint64_t>(arguments.integer("--seed", 0, 1LL << 62));
  if (given("--val-fraction")) config.val_fraction = arguments.number("--val-fraction", 1e-3, 0.9);
  if (given("--limit-train")) config.limit_train = arguments.integer("--limit-train", 0, huge);
  if (given("--early-stopping")) config.early_stopping = arguments.integer("--early-stopping", 0, huge);
  for (const auto& [key, value] : model_options_from(arguments)) config.model_options[key] = value;
  if (given("--data")) config.data = arguments.text("--data");
  if (given("--val-data")) config.val_data = arguments.text("--val-data");
  if (given("--normalize")) {
    config.normalize = one_of("--normalize", arguments.text("--normalize"), {"[-1,1]", "imagenet", "[0,1]", "computed"});
  }
  if (given("--square-crop")) config.square_crop = true;
  if (given("--augment-flip")) config.augment_flip = true;
  if (given("--augment-crop-padding")) {
    config.augment_crop_padding = arguments.integer("--augment-crop-padding", 0, 1 << 12);
  }
  if (given("--batch-schedule")) config.batch_schedule = arguments.text("--batch-schedule");
  if (given("--dropout-schedule")) config.dropout_schedule = arguments.text("--dropout-schedule");
  if (given("--freeze-bn-stats")) config.freeze_bn_stats = arguments.integer("--freeze-bn-stats", 0, 1LL << 62);
  if (given("--l2-all")) config.l2_all = true;
  if (given("--precise-bn")) config.precise_bn_images = arguments.integer("--precise-bn", 0, huge);
  try {
    train::check_config(config);
  } catch (const Error& error) {
    throw cli::UsageError(error.what());
  }
  return config;
}

// One progress line per step, redrawn in place on a terminal (at most ten times a second) and printed every five
// seconds otherwise, so that logs stay short.
class ProgressPrinter {
 public:
  ProgressPrinter() : terminal_(::isatty(STDOUT_FILENO) == 1) {}

  void step(const train::StepProgress& progress) {
    const auto now = std::chrono::steady_clock::now();
    const double since_last = std::chrono::duration<double>(now - last_print_).count();
    if (since_last < (terminal_ ? 0.1 : 5.0) && progress.step != progress.steps) return;
    if (!terminal_ && progress.step == progress.steps) return;  // the epoch line follows at once
    last_print_ = now;
    char line[160];
    std::snprintf(line, sizeof line, "epoch %lld/%lld  step %lld/%lld  loss %.4f  %.0f img/s  ETA %s",
                  static_cast<long long>(progress.epoch), static_cast<long long>(progress.epochs),
                  static_cast<long long>(progress.step), static_cast<long long>(progress.steps), progress.loss,
                  progress.images_per_second, duration_text(progress.eta_seconds).c_str());
    std::cout << (terminal_ ? "\r\033[K" : "") << line << (terminal_ ? "" : "\n") << std::flush;
  }

  void epoch(const train::EpochStats& stats, std::int64_t epochs) {
    char line[200];
    std::snprintf(line, sizeof line,
                  "epoch %lld/%lld: train loss %.4f acc %.2f%% | val loss %.4f acc %.2f%% | lr %.3g | %.1f s, "
                  "%.0f img/s%s",
                  static_cast<long long>(stats.epoch), static_cast<long long>(epochs), stats.train_loss,
                  100 * stats.train_accuracy, stats.val_loss, 100 * stats.val_accuracy, stats.lr, stats.seconds,
                  stats.images_per_second, stats.improved ? " (best)" : "");
    std::cout << (terminal_ ? "\r\033[K" : "") << line << "\n" << std::flush;
    last_print_ = std::chrono::steady_clock::now();
  }

  // Ends a line left open by a redrawn progress line.
  void finish_line() const {
    if (terminal_) std::cout << "\n";
  }

 private:
  bool terminal_;
  std::chrono::steady_clock::time_point last_print_ = std::chrono::steady_clock::now();
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
  hooks.on_epoch = [&](const train::EpochStats& stats) {
    printer.epoch(stats, config.epochs);
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
  const TrainConfig defaults;
  std::vector<cli::Option> options = {
      {"--model", {}, "NAME", "the net to train: fmnist-small, fmnist-bn, roomnet or vgg", defaults.model},
      {"--data", {"-t"}, "DIR", "the Fashion-MNIST folder, a class-per-subfolder image tree or Tiny ImageNet",
       defaults.data},
      {"--val-data", {"-v"}, "DIR", "image folders: a separate validation folder (else --val-fraction)", ""},
      {"--normalize", {}, "[-1,1]|imagenet|[0,1]|computed",
       "image folders: input normalisation (roomnet [-1,1], vgg --layout torchvision imagenet, else computed)", ""},
      {"--square-crop", {}, "", "image folders: centre square of the longer side (a random one when training)", ""},
      {"--augment-flip", {}, "", "image folders: random horizontal flips when training", ""},
      {"--augment-crop-padding", {}, "N", "image folders: pad by N pixels and crop at random when training", "0"},
      {"--reader-threads", {}, "N", "image folders: decoder threads", "4"},
      {"--epochs", {"-e"}, "N", "epochs in all (a resumed run counts its earlier ones)",
       std::to_string(defaults.epochs)},
      {"--batch-size", {"-b"}, "N", "images per step", std::to_string(defaults.batch_size)},
      {"--optimizer", {}, "adam|sgd", "the optimiser", defaults.optimizer},
      {"--lr", {"-lr"}, "X", "learning rate", text_of(defaults.lr)},
      {"--lr-decay-rate", {}, "X", "lr * X^(step / decay steps); 1 keeps it constant", text_of(defaults.lr_decay_rate)},
      {"--lr-decay-steps", {}, "N", "steps per decay by the rate", text_of(defaults.lr_decay_steps)},
      {"--lr-staircase", {}, "", "decay in whole steps of --lr-decay-steps", ""},
      {"--weight-decay", {}, "X", "L2 lambda on the weights (not biases or batch-norm)",
       text_of(defaults.weight_decay)},
      {"--l2-all", {}, "", "L2 on every trainable variable, biases and batch norm included (RoomNet)", ""},
      {"--momentum", {}, "X", "SGD momentum", text_of(defaults.momentum)},
      {"--batch-schedule", {}, "B0,B1@STEP,...",
       "batch size by optimiser step, from the first epoch starting at or after STEP (else --batch-size)", ""},
      {"--dropout-schedule", {}, "X0,X1@STEP,...", "every dropout layer's rate by optimiser step", ""},
      {"--freeze-bn-stats", {}, "STEP", "from this step on batch norm uses and keeps its running statistics", ""},
      {"--precise-bn", {}, "N",
       "before each validation, recompute batch-norm statistics from N training images (precise BN); 0 = off",
       std::to_string(defaults.precise_bn_images)},
      {"--seed", {}, "N", "seeds weights, validation split, shuffling and dropout", std::to_string(defaults.seed)},
      {"--out", {}, "DIR", "run folder: log.jsonl, best.safetensors, last.safetensors", "runs/train"},
      {"--resume", {}, "", "continue the run in --out from last.safetensors, with its settings unless given", ""},
      {"--early-stopping", {"-es"}, "N", "stop after N epochs without a lower validation loss; 0 = never",
       std::to_string(defaults.early_stopping)},
      {"--val-fraction", {}, "X", "share of the training images held out for validation",
       text_of(defaults.val_fraction)},
      {"--limit-train", {}, "N", "Fashion-MNIST: use only the first N training images; 0 = all",
       std::to_string(defaults.limit_train)},
      {"--threads", {}, "N", "CPU threads; 0 = KILN_NUM_THREADS or all cores", "0"},
  };
  for (cli::Option& flag : device_flags("where to train")) options.push_back(std::move(flag));
  for (cli::Option& flag : model_flags()) options.push_back(std::move(flag));
  return cli::Command("train", "train a classifier on Fashion-MNIST or an image folder (Ctrl-C stops cleanly; "
                      "--resume continues)",
                      std::move(options), run_train);
}

}  // namespace kiln::tools
