#include "kiln/train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include <set>

#include "kiln/autograd.h"
#include "kiln/models/registry.h"
#include "kiln/nn/batch_norm.h"
#include "kiln/nn/layers.h"
#include "kiln/ops/loss.h"
#include "kiln/optim/adam.h"
#include "kiln/optim/sgd.h"
#include "kiln/train/evaluation.h"
#include "kiln/train/precise_batch_norm.h"
#include "kiln/train/task.h"

namespace kiln::train {

namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::unique_ptr<optim::Optimizer> make_optimizer(const TrainConfig& config, const nn::Module& model) {
  const optim::ExponentialDecay schedule{config.lr, config.lr_decay_rate, config.lr_decay_steps, config.lr_staircase};
  const optim::L2Options l2{config.weight_decay, config.l2_all, config.l2_all};
  if (config.optimizer == "adam") return std::make_unique<optim::Adam>(model.named_parameters(), schedule, l2);
  if (config.optimizer == "sgd") {
    return std::make_unique<optim::SGD>(model.named_parameters(), schedule, l2, optim::SgdOptions{config.momentum});
  }
  fail("unknown optimizer '", config.optimizer, "' (valid: adam, sgd)");
}

bool same_statistics(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::abs(a[i] - b[i]) > 1e-9 * std::max(1.0, std::abs(a[i]))) return false;
  }
  return true;
}

}  // namespace

TrainConfig read_train_config(const std::string& checkpoint_path) {
  const SafetensorsFile file = load_safetensors(checkpoint_path);
  return train_config_from_json(read_checkpoint_info(file, checkpoint_path).train_config);
}

// The model's options with "classes" taken from the data when the model has that option and it is not given.
models::ModelOptions options_for(const TrainConfig& config, const std::vector<std::string>& classes) {
  models::ModelOptions options = config.model_options;
  const models::ModelOptions defaults = models::with_defaults(models::model_option_specs(config.model), {});
  if (defaults.contains("classes") && !options.contains("classes")) options["classes"] = std::to_string(classes.size());
  return options;
}

Trainer::Trainer(TrainConfig config, TrainingData data)
    : config_(std::move(config)),
      data_(std::move(data)),
      shuffle_(stream_seed(config_.seed, RunStream::shuffle)) {
  check_config(config_);
  batch_schedule_ = batch_schedule(config_);
  dropout_schedule_ = dropout_schedule(config_);
  const std::vector<std::string>& classes = data_.train->classes();
  KILN_CHECK(!classes.empty(), "train: the training set names no classes");
  config_.model_options = options_for(config_, classes);

  Generator initialisation(config_.seed);
  task_ = make_task(models::model_family(config_.model).task, static_cast<std::int64_t>(classes.size()),
                    {class_weights(config_), static_cast<std::int32_t>(config_.ignore_label), false});
  model_ = models::make_model(config_.model, config_.model_options, initialisation);
  if (!config_.encoder_weights.empty()) models::load_encoder_weights(config_.model, *model_, config_.encoder_weights);
  model_->to(config_.device);
  optimizer_ = make_optimizer(config_, *model_);

  info_.model = config_.model;
  info_.model_options =
      nlohmann::json(models::with_defaults(models::model_option_specs(config_.model), config_.model_options)).dump();
  info_.classes = classes;
  info_.class_colors = data_.class_colors;
  info_.input = data_.input;
  info_.preprocess = data_.preprocess;
  info_.seed = config_.seed;
  info_.shuffle_rng = shuffle_.state();
  save_generators();
  info_.train_config = to_json(config_);
}

Trainer::Trainer(TrainConfig config, const data::LabelledImages& training_set)
    : Trainer(config, in_memory_data(training_set, config)) {}

void Trainer::resume(const std::string& checkpoint_path) {
  const SafetensorsFile file = load_safetensors(checkpoint_path);
  CheckpointInfo saved = read_checkpoint_info(file, checkpoint_path);
  const auto mismatch = [&](const char* what, const auto& saved_value, const auto& current) {
    fail("cannot resume from '", checkpoint_path, "': it was trained with ", what, " ", saved_value, ", not ",
         current);
  };
  if (saved.model != config_.model) mismatch("model", saved.model, config_.model);
  if (saved.seed != config_.seed) mismatch("seed", saved.seed, config_.seed);
  if (saved.model_options != info_.model_options) mismatch("model options", saved.model_options, info_.model_options);
  if (!same_statistics(saved.input.mean, info_.input.mean) || !same_statistics(saved.input.std, info_.input.std)) {
    fail("cannot resume from '", checkpoint_path, "': its training images differ from these (other data, "
         "--limit-train or --val-fraction: the input statistics do not match)");
  }
  load_module_tensors(*model_, file, checkpoint_path);
  load_optimizer_state(optimizer_state_path(checkpoint_path), *optimizer_, config_.optimizer, saved.step);
  shuffle_.set_state(saved.shuffle_rng);
  for (const nn::NamedGenerator& generator : model_->named_generators()) {
    const auto state = saved.model_rngs.find(generator.name);
    KILN_CHECK(state != saved.model_rngs.end(), "cannot resume from '", checkpoint_path, "': its rng_state has no '",
               generator.name, "' stream");
    generator.generator->set_state(state->second);
  }
  saved.train_config = info_.train_config;
  info_ = std::move(saved);
  owns_out_dir_ = true;
}

std::vector<data::SkippedFile> Trainer::skipped_files() const {
  std::vector<data::SkippedFile> unique;
  std::set<std::string> seen;
  for (const data::DataSource* source : {data_.train.get(), data_.validation.get()}) {
    for (data::SkippedFile& file : source->skipped()) {
      if (seen.insert(file.path).second) unique.push_back(std::move(file));
    }
  }
  return unique;
}

std::int64_t Trainer::skipped_count() const {
  return static_cast<std::int64_t>(data_.train->skipped().size() + data_.validation->skipped().size());
}

void Trainer::apply_step_schedules() {
  const std::int64_t step = optimizer_->steps_taken();
  const bool freeze = statistics_frozen();
  model_->apply([&](nn::Module& module) {
    if (auto* norm = dynamic_cast<nn::BatchNorm*>(&module)) norm->freeze_statistics(freeze);
    if (auto* layer = dynamic_cast<nn::Dropout*>(&module); layer && dropout_schedule_) {
      layer->p = dropout_schedule_->at(step);
    }
  });
}

bool Trainer::statistics_frozen() const {
  return config_.freeze_bn_stats >= 0 && optimizer_->steps_taken() >= config_.freeze_bn_stats;
}

void Trainer::recompute_statistics(const EpochStats& stats) {
  if (config_.precise_bn_images == 0 || statistics_frozen()) return;
  // Seeded by run and epoch, so that a resumed run recomputes what an uninterrupted one does.
  const PreciseBatchNormOptions options{
      config_.precise_bn_images, stats.batch_size,
      stream_seed(config_.seed, RunStream::batch_norm_statistics) + static_cast<std::uint64_t>(stats.epoch)};
  recompute_batch_norm_statistics(*model_, *data_.train, options, config_.device);
}

std::string Trainer::checkpoint_path(const std::string& name) const {
  return (std::filesystem::path(config_.out_dir) / (name + ".safetensors")).string();
}

TrainOutcome Trainer::fit(const TrainHooks& hooks) {
  const bool writes_files = !config_.out_dir.empty();
  if (writes_files) {
    std::filesystem::create_directories(config_.out_dir);
    KILN_CHECK(owns_out_dir_ || !std::filesystem::exists(checkpoint_path("last")), "'", config_.out_dir,
               "' already holds a run (", checkpoint_path("last"), "); resume it or choose another output folder");
    owns_out_dir_ = true;
  }
  while (info_.epoch < config_.epochs) {
    // Checked here rather than after the epoch so that a run resumed after the trigger stops too.
    if (config_.early_stopping > 0 && info_.epochs_without_improvement >= config_.early_stopping) {
      return TrainOutcome::early_stopped;
    }
    const auto epoch_start = Clock::now();
    const std::int64_t skipped_before = skipped_count();
    EpochStats stats;
    if (!train_epoch(hooks, stats)) {
      if (writes_files) save_last();
      // Like a resume from that checkpoint, a later fit() runs the interrupted epoch again with the same draws.
      shuffle_.set_state(info_.shuffle_rng);
      for (const nn::NamedGenerator& generator : model_->named_generators()) {
        generator.generator->set_state(info_.model_rngs.at(generator.name));
      }
      return TrainOutcome::interrupted;
    }
    recompute_statistics(stats);
    const MetricsSummary validation =
        task_->evaluate(*model_, *data_.validation, config_.batch_size, config_.device)->summary();
    stats.val_loss = validation.loss;
    stats.val_accuracy = validation.score;
    stats.seconds = seconds_since(epoch_start);
    stats.improved = validation.loss < info_.best_val_loss;
    stats.skipped = skipped_count() - skipped_before;

    info_.epoch = stats.epoch;
    info_.step = optimizer_->steps_taken();
    info_.shuffle_rng = shuffle_.state();
    save_generators();
    if (stats.improved) {
      info_.best_val_loss = validation.loss;
      info_.epochs_without_improvement = 0;
    } else {
      ++info_.epochs_without_improvement;
    }
    if (writes_files) {
      if (stats.improved) save_checkpoint(checkpoint_path("best"), *model_, info_);
      save_last();
      append_log(stats);
    }
    if (hooks.on_epoch) hooks.on_epoch(stats);
  }
  return TrainOutcome::completed;
}

bool Trainer::train_epoch(const TrainHooks& hooks, EpochStats& stats) {
  stats.epoch = info_.epoch + 1;
  // The batch size changes only where an epoch starts, so that an epoch is one plan for the reader and a resume (always
  // from an epoch's start) finds it from the step count alone.
  stats.batch_size = batch_schedule_ ? static_cast<std::int64_t>(batch_schedule_->at(optimizer_->steps_taken()))
                                     : config_.batch_size;
  model_->train();
  data::DataSource& source = *data_.train;
  source.start_epoch(data::permutation(source.size(), shuffle_), stats.batch_size, stats.epoch);
  const std::int64_t steps = (source.size() + stats.batch_size - 1) / stats.batch_size;
  const std::int64_t remaining_epochs = config_.epochs - stats.epoch;
  const auto classes = static_cast<std::int64_t>(source.classes().size());
  // The step's loss and metrics stay on the device; they are read where progress is reported and at the epoch's end.
  const std::unique_ptr<EpochMetrics> metrics = task_->epoch_metrics(classes, steps, config_.device);
  // Reads the device; a diverged loss stops the run here, before a checkpoint can take the weights it left.
  const auto read_metrics = [&]() -> MetricsSummary {
    try {
      return metrics->summary();
    } catch (const Error& error) {
      fail("epoch ", stats.epoch, ": ", error.what());
    }
  };
  const auto start = Clock::now();
  auto last_report = start;
  for (std::int64_t step = 0;; ++step) {
    if (hooks.stop_requested != nullptr && hooks.stop_requested->load()) {
      source.stop();
      static_cast<void>(read_metrics());
      return false;
    }
    const std::optional<data::Batch> batch = source.next();
    if (!batch) break;
    apply_step_schedules();
    optimizer_->zero_grad();
    const Tensor outputs = (*model_)(batch->images.to(config_.device));
    const Tensor targets = batch->labels.to(config_.device);
    const Tensor loss = task_->loss(outputs, targets);
    loss.backward();
    stats.lr = optimizer_->learning_rate();
    optimizer_->step();
    metrics->add(outputs, targets, loss);

    const auto now = Clock::now();
    const bool last = step + 1 == steps;
    if (hooks.on_step && (last || std::chrono::duration<double>(now - last_report).count() >= hooks.progress_seconds)) {
      last_report = now;
      const MetricsSummary so_far = read_metrics();  // the one device read of a step that reports progress
      const double elapsed = seconds_since(start);
      const double per_step = elapsed / static_cast<double>(step + 1);
      hooks.on_step({stats.epoch, config_.epochs, step + 1, steps, stats.batch_size, so_far.loss,
                     static_cast<double>(so_far.images) / elapsed,
                     per_step * static_cast<double>(std::max<std::int64_t>(steps - step - 1, 0) +
                                                    remaining_epochs * steps)});
    }
  }
  const double seconds = seconds_since(start);
  const MetricsSummary epoch = read_metrics();
  stats.train_loss = epoch.loss;
  stats.train_accuracy = epoch.score;
  stats.images_per_second = seconds > 0 ? static_cast<double>(epoch.images) / seconds : 0.0;
  return true;
}

void Trainer::save_generators() {
  info_.model_rngs.clear();
  for (const nn::NamedGenerator& generator : model_->named_generators()) {
    info_.model_rngs[generator.name] = generator.generator->state();
  }
}

void Trainer::save_last() const {
  CheckpointInfo info = info_;
  info.step = optimizer_->steps_taken();
  // The optimiser file goes first: a crash between the two writes leaves a step mismatch that resume reports.
  save_optimizer_state(optimizer_state_path(checkpoint_path("last")), *optimizer_, config_.optimizer);
  save_checkpoint(checkpoint_path("last"), *model_, info);
}

void Trainer::append_log(const EpochStats& stats) const {
  const Json line = {{"epoch", stats.epoch},
                     {"train_loss", stats.train_loss},
                     {"train_accuracy", stats.train_accuracy},
                     {"val_loss", stats.val_loss},
                     {"val_accuracy", stats.val_accuracy},
                     {"lr", stats.lr},
                     {"batch_size", stats.batch_size},
                     {"skipped", stats.skipped},
                     {"seconds", stats.seconds},
                     {"images_per_second", stats.images_per_second}};
  const std::string path = (std::filesystem::path(config_.out_dir) / "log.jsonl").string();
  std::ofstream log(path, std::ios::app);
  log << line.dump() << "\n";
  KILN_CHECK(log.flush(), "cannot append to '", path, "'");
}

}  // namespace kiln::train
