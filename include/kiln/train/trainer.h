#pragma once
// The supervised training loop for image classifiers, as a library: seeded validation split and per-epoch shuffle,
// input normalisation, mini-batch steps (forward, cross-entropy, backward, optimiser step with L2), validation each
// epoch, best/last checkpoints, a JSON line per epoch, early stopping, and stop-and-resume. On the CPU a run resumed
// from its last end-of-epoch checkpoint produces bit for bit the weights of an uninterrupted run.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "kiln/data/idx.h"
#include "kiln/optim/optimizer.h"
#include "kiln/train/checkpoint.h"

namespace kiln::train {

struct TrainConfig {
  std::string model = "fmnist-small";
  std::int64_t epochs = 10;
  std::int64_t batch_size = 256;
  std::string optimizer = "adam";  // "adam" or "sgd"
  double lr = 1e-3;                // learning rate at step 0
  double lr_decay_rate = 1.0;      // lr(step) = lr * rate^(step / decay_steps); 1 keeps it constant
  double lr_decay_steps = 1000;
  bool lr_staircase = false;       // floor the exponent
  double weight_decay = 1e-3;      // L2 lambda on weights (biases and batch-norm parameters excluded)
  double momentum = 0.9;           // SGD only
  std::uint64_t seed = 0;          // weights, validation split, shuffling, dropout
  double val_fraction = 0.1;
  std::int64_t limit_train = 0;    // use only the first N training images; 0 = all
  std::int64_t early_stopping = 0;  // stop after N epochs without a lower validation loss; 0 = never
  std::string out_dir;             // log.jsonl, best.safetensors, last.safetensors; empty = write nothing
  Device device = Device::cpu();
};

// The run-defining fields as JSON (everything but out_dir and device), as checkpoints store it.
std::string to_json(const TrainConfig& config);
// The inverse; absent fields keep their defaults, mistyped ones throw.
TrainConfig train_config_from_json(const std::string& json);
// The TrainConfig stored in a checkpoint.
TrainConfig read_train_config(const std::string& checkpoint_path);

struct StepProgress {
  std::int64_t epoch = 0, epochs = 0, step = 0, steps = 0;  // 1-based epoch and step within it
  double loss = 0;                 // mean training loss of the epoch so far
  double images_per_second = 0;    // this epoch so far
  double eta_seconds = 0;          // the run's remaining training steps at this epoch's pace
};

struct EpochStats {
  std::int64_t epoch = 0;
  double train_loss = 0, train_accuracy = 0, val_loss = 0, val_accuracy = 0;
  double lr = 0;                  // of the epoch's last step
  double seconds = 0;             // training and validation
  double images_per_second = 0;   // training only
  bool improved = false;          // the validation loss is the best so far (best.safetensors written)
};

struct TrainHooks {
  std::function<void(const StepProgress&)> on_step;
  std::function<void(const EpochStats&)> on_epoch;
  // Read before every step; once true, the run stops and saves a resumable last checkpoint: the weights as they are,
  // with the epoch counter and random streams of the interrupted epoch's start, which a resume runs again.
  const std::atomic<bool>* stop_requested = nullptr;
};

enum class TrainOutcome { completed, early_stopped, interrupted };

class Trainer {
 public:
  // Builds the model from `config.seed`, splits off the validation images by the seed and normalises both parts with
  // the training part's per-channel statistics. `training_set` is not modified.
  Trainer(TrainConfig config, const data::LabelledImages& training_set);

  // Continues the run saved in `checkpoint_path` (and its optimiser file): weights, buffers, optimiser state, epoch,
  // random streams, best validation loss. The model, seed and training data must be the run's.
  void resume(const std::string& checkpoint_path);

  // Trains until config.epochs epochs are complete, early stopping triggers or a stop is requested. After a stop,
  // calling fit() again continues as a resume from the saved checkpoint would.
  TrainOutcome fit(const TrainHooks& hooks = {});

  nn::Module& model() { return *model_; }
  const TrainConfig& config() const { return config_; }
  // Where the run stands: completed epochs, optimiser steps, best validation loss, normalisation.
  const CheckpointInfo& progress() const { return info_; }
  const data::LabelledImages& validation_set() const { return validation_; }
  std::int64_t training_images() const { return train_.images.size(0); }
  std::string checkpoint_path(const std::string& name) const;  // "<out_dir>/<name>.safetensors"

 private:
  // Returns false when a stop was requested before the epoch's end.
  bool train_epoch(const TrainHooks& hooks, EpochStats& stats);
  void save_last() const;
  void append_log(const EpochStats& stats) const;

  TrainConfig config_;
  data::LabelledImages train_, validation_;
  std::shared_ptr<nn::Module> model_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  Generator shuffle_;
  CheckpointInfo info_;  // random streams as of the current epoch's start
  bool owns_out_dir_ = false;  // the files in out_dir are this run's (resumed, or written by an earlier fit)
};

}  // namespace kiln::train
