#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "kiln/train/trainer.h"
#include "tests/train/same_files.h"

using namespace kiln;
using test::require_bit_identical;
namespace fs = std::filesystem;

namespace {

struct Folder {
  explicit Folder(const std::string& name)
      : path(fs::temp_directory_path() / ("kiln_resume_" + std::to_string(::getpid()) + "_" + name)) {
    fs::remove_all(path);
  }
  ~Folder() { fs::remove_all(path); }
  fs::path path;
};

// Noise images whose label decides where a bright 4x4 patch sits, so that the nets have something to learn.
data::LabelledImages synthetic_set(std::int64_t count) {
  Generator generator(99);
  data::LabelledImages set;
  set.images = Tensor::uniform({count, 1, 28, 28}, 0.0, 0.5, generator);
  std::vector<std::int32_t> labels(static_cast<std::size_t>(count));
  float* pixels = set.images.data<float>();
  for (std::int64_t i = 0; i < count; ++i) {
    const auto label = static_cast<std::int32_t>(i * 7 % 10);
    labels[static_cast<std::size_t>(i)] = label;
    for (int row = 0; row < 4; ++row) {
      for (int col = 0; col < 4; ++col) pixels[i * 784 + (2 + 2 * label + row) * 28 + 4 + col + 2 * label] = 1.0f;
    }
  }
  set.labels = Tensor::from_vector(labels, {count});
  for (int c = 0; c < 10; ++c) set.classes.push_back("class " + std::to_string(c));
  return set;
}

train::TrainConfig small_config(const std::string& model, const std::string& optimizer, const fs::path& out) {
  train::TrainConfig config;
  config.model = model;
  config.optimizer = optimizer;
  config.epochs = 3;
  config.batch_size = 16;
  config.lr = 2e-3;
  config.lr_decay_rate = 0.5;  // a schedule, so that the step count must survive the resume
  config.lr_decay_steps = 7;
  config.weight_decay = 1e-3;
  config.seed = 11;
  config.val_fraction = 0.2;
  config.limit_train = 120;  // of the 150 synthetic images
  config.out_dir = out.string();
  return config;
}

std::int64_t line_count(const fs::path& path) {
  std::ifstream file(path);
  std::int64_t lines = 0;
  for (std::string line; std::getline(file, line);) ++lines;
  return lines;
}

}  // namespace

TEST_CASE("resume: 2 epochs + resume 1 equals 3 uninterrupted epochs bit for bit", "[train]") {
  const auto [model, optimizer] = GENERATE(std::pair<std::string, std::string>{"fmnist-bn", "adam"},
                                           std::pair<std::string, std::string>{"fmnist-small", "sgd"});
  INFO(model << " with " << optimizer);
  const data::LabelledImages set = synthetic_set(150);
  Folder straight("straight"), stopped("stopped");

  train::Trainer uninterrupted(small_config(model, optimizer, straight.path), set);
  REQUIRE(uninterrupted.fit() == train::TrainOutcome::completed);

  train::TrainConfig two_epochs = small_config(model, optimizer, stopped.path);
  two_epochs.epochs = 2;
  {
    train::Trainer first(two_epochs, set);
    REQUIRE(first.fit() == train::TrainOutcome::completed);
    CHECK(first.progress().epoch == 2);
  }
  train::Trainer resumed(small_config(model, optimizer, stopped.path), set);
  resumed.resume((stopped.path / "last.safetensors").string());
  CHECK(resumed.progress().epoch == 2);
  REQUIRE(resumed.fit() == train::TrainOutcome::completed);

  CHECK(resumed.progress().step == uninterrupted.progress().step);
  CHECK(resumed.progress().best_val_loss == uninterrupted.progress().best_val_loss);
  require_bit_identical((straight.path / "last.safetensors").string(), (stopped.path / "last.safetensors").string());
  require_bit_identical((straight.path / "last.optim.safetensors").string(),
                        (stopped.path / "last.optim.safetensors").string());
  CHECK(line_count(stopped.path / "log.jsonl") == 3);
  CHECK(fs::exists(stopped.path / "best.safetensors"));
}

TEST_CASE("resume: a stop request saves the interrupted epoch's start for a resume", "[train]") {
  const data::LabelledImages set = synthetic_set(150);
  Folder folder("interrupt"), copy("interrupt_copy");
  const train::TrainConfig config = small_config("fmnist-bn", "adam", folder.path);
  std::atomic<bool> stop{false};
  train::TrainHooks hooks;
  hooks.stop_requested = &stop;
  hooks.on_step = [&stop](const train::StepProgress& progress) {
    if (progress.epoch == 2 && progress.step == 2) stop.store(true);
  };
  train::Trainer trainer(config, set);
  const std::int64_t steps_per_epoch = (trainer.training_images() + config.batch_size - 1) / config.batch_size;
  REQUIRE(trainer.fit(hooks) == train::TrainOutcome::interrupted);

  const std::string last = (folder.path / "last.safetensors").string();
  const train::CheckpointInfo info = train::read_checkpoint_info(load_safetensors(last), last);
  CHECK(info.epoch == 1);
  CHECK(info.step == steps_per_epoch + 2);
  // One epoch's shuffle of the 96 training images draws 95 numbers.
  CHECK(info.shuffle_rng.offset == 95);
  CHECK(line_count(folder.path / "log.jsonl") == 1);
  fs::copy(folder.path, copy.path);

  // Continuing in the same process and resuming from the files are the same run.
  REQUIRE(trainer.fit() == train::TrainOutcome::completed);
  train::TrainConfig copied = config;
  copied.out_dir = copy.path.string();
  train::Trainer resumed(copied, set);
  resumed.resume((copy.path / "last.safetensors").string());
  REQUIRE(resumed.fit() == train::TrainOutcome::completed);
  CHECK(resumed.progress().epoch == 3);
  CHECK(resumed.progress().step == steps_per_epoch * 3 + 2);
  require_bit_identical(last, (copy.path / "last.safetensors").string());
}

TEST_CASE("resume: a fresh run refuses a folder holding a run, a resume refuses another seed", "[train]") {
  const data::LabelledImages set = synthetic_set(150);
  Folder folder("refuse");
  train::TrainConfig config = small_config("fmnist-small", "adam", folder.path);
  config.epochs = 1;
  {
    train::Trainer trainer(config, set);
    trainer.fit();
  }
  train::Trainer again(config, set);
  CHECK_THROWS_WITH(again.fit(), Catch::Contains("already holds a run"));
  config.seed = 12;
  train::Trainer reseeded(config, set);
  CHECK_THROWS_WITH(reseeded.resume((folder.path / "last.safetensors").string()),
                    Catch::Contains("seed 11, not 12"));
}

TEST_CASE("early stopping ends the run after N epochs without a lower validation loss", "[train]") {
  const data::LabelledImages set = synthetic_set(150);
  Folder folder("early");
  train::TrainConfig config = small_config("fmnist-small", "sgd", folder.path);
  config.epochs = 6;
  config.early_stopping = 2;
  // Steps this small leave every float32 weight as it is, so the validation loss repeats exactly after epoch 1.
  config.lr = 1e-30;
  config.weight_decay = 0;
  std::vector<train::EpochStats> epochs;
  train::TrainHooks hooks;
  hooks.on_epoch = [&epochs](const train::EpochStats& stats) { epochs.push_back(stats); };
  train::Trainer trainer(config, set);
  CHECK(trainer.fit(hooks) == train::TrainOutcome::early_stopped);
  REQUIRE(epochs.size() == 3);
  CHECK(epochs[0].improved);
  CHECK_FALSE(epochs[1].improved);
  CHECK_FALSE(epochs[2].improved);
  CHECK(epochs[2].val_loss == epochs[0].val_loss);
}
