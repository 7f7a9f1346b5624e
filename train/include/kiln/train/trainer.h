#pragma once
// The supervised training loop, as a library, with the model family's task (task.h) as its one point of variation:
// batches from a data::DataSource (in memory or image files) in a seeded per-epoch shuffle, mini-batch steps (forward,
// the task's loss, backward, optimiser step with L2), schedules by step (batch size, dropout, frozen batch-norm
// statistics), optionally batch-norm statistics recomputed from training images before each validation (precise batch
// norm), validation each epoch, best/last checkpoints, a JSON line per epoch, early stopping, and stop-and-resume. On
// the CPU a run resumed from its last end-of-epoch checkpoint produces bit for bit the weights of an uninterrupted run,
// with either source.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "kiln/data/idx.h"
#include "kiln/optim/optimizer.h"
#include "kiln/train/checkpoint.h"
#include "kiln/train/task.h"
#include "kiln/train/train_config.h"
#include "kiln/train/training_data.h"

namespace kiln::train {

// The TrainConfig stored in a checkpoint.
TrainConfig read_train_config(const std::string& checkpoint_path);

struct StepProgress {
  std::int64_t epoch = 0, epochs = 0, step = 0, steps = 0;  // 1-based epoch and step within it
  std::int64_t batch_size = 0;     // of this epoch (--batch-schedule)
  double loss = 0;                 // mean training loss of the epoch so far
  double images_per_second = 0;    // this epoch so far
  double eta_seconds = 0;          // the run's remaining training steps at this epoch's pace
};

struct EpochStats {
  std::int64_t epoch = 0;
  double train_loss = 0, train_accuracy = 0, val_loss = 0, val_accuracy = 0;  // accuracy: the task's score
  double lr = 0;                  // of the epoch's last step
  double seconds = 0;             // training and validation
  double images_per_second = 0;   // training only
  bool improved = false;          // the validation loss is the best so far (best.safetensors written)
  std::int64_t batch_size = 0;    // of this epoch's training batches
  std::int64_t skipped = 0;       // unreadable image files left out this epoch, training and validation
};

struct TrainHooks {
  // Called after a step at most every `progress_seconds` (and after an epoch's last step): each call reads the loss
  // from the device, which the steps between calls never do.
  std::function<void(const StepProgress&)> on_step;
  double progress_seconds = 0;
  std::function<void(const EpochStats&)> on_epoch;
  // Read before every step; once true, the run stops and saves a resumable last checkpoint: the weights as they are,
  // with the epoch counter and random streams of the interrupted epoch's start, which a resume runs again.
  const std::atomic<bool>* stop_requested = nullptr;
};

enum class TrainOutcome { completed, early_stopped, interrupted };

class Trainer {
 public:
  // Builds the model from `config.seed` and its options (the "classes" option, when the model has one and it is not
  // given, is the data's class count) and trains on `data`.
  Trainer(TrainConfig config, TrainingData data);
  // In memory: in_memory_data(training_set, config). `training_set` is not modified.
  Trainer(TrainConfig config, const data::LabelledImages& training_set);

  // Continues the run saved in `checkpoint_path` (and its optimiser file): weights, buffers, optimiser state, epoch,
  // random streams, best validation loss. The model, its options, seed and training data must be the run's.
  void resume(const std::string& checkpoint_path);

  // Trains until config.epochs epochs are complete, early stopping triggers or a stop is requested. After a stop,
  // calling fit() again continues as a resume from the saved checkpoint would.
  TrainOutcome fit(const TrainHooks& hooks = {});

  nn::Module& model() { return *model_; }
  const Task& task() const { return *task_; }
  const TrainConfig& config() const { return config_; }
  // Where the run stands: completed epochs, optimiser steps, best validation loss, normalisation.
  const CheckpointInfo& progress() const { return info_; }
  std::int64_t training_images() const { return data_.train->size(); }
  std::int64_t validation_images() const { return data_.validation->size(); }
  // Unreadable image files met so far, each path once.
  std::vector<data::SkippedFile> skipped_files() const;
  std::string checkpoint_path(const std::string& name) const;  // "<out_dir>/<name>.safetensors"

 private:
  // Returns false when a stop was requested before the epoch's end.
  bool train_epoch(const TrainHooks& hooks, EpochStats& stats);
  // Applies the dropout schedule and frozen batch-norm statistics in force at the optimiser's next step.
  void apply_step_schedules();
  bool statistics_frozen() const;  // --freeze-bn-stats is in force at the optimiser's next step
  // --precise-bn: the batch-norm statistics from training images, before the epoch's validation.
  void recompute_statistics(const EpochStats& stats);
  std::int64_t skipped_count() const;
  void save_last() const;
  void save_generators();  // the model's random streams into info_ (as of an epoch's start)
  void append_log(const EpochStats& stats) const;

  TrainConfig config_;
  TrainingData data_;
  std::shared_ptr<nn::Module> model_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  std::unique_ptr<Task> task_;  // the model family's
  Generator shuffle_;
  std::optional<StepSchedule> batch_schedule_, dropout_schedule_;
  CheckpointInfo info_;  // random streams as of the current epoch's start
  bool owns_out_dir_ = false;  // the files in out_dir are this run's (resumed, or written by an earlier fit)
};

}  // namespace kiln::train
