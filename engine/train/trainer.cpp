#include "kiln/train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kiln/autograd.h"
#include "kiln/models/registry.h"
#include "kiln/ops/loss.h"
#include "kiln/optim/adam.h"
#include "kiln/optim/sgd.h"
#include "kiln/train/evaluation.h"

namespace kiln::train {

namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// Independent random streams from one seed: splitmix64 of (seed, stream).
std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + stream * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
constexpr std::uint64_t split_stream = 1, shuffle_stream = 2;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::unique_ptr<optim::Optimizer> make_optimizer(const TrainConfig& config, const nn::Module& model) {
  const optim::ExponentialDecay schedule{config.lr, config.lr_decay_rate, config.lr_decay_steps, config.lr_staircase};
  const optim::L2Options l2{config.weight_decay};
  if (config.optimizer == "adam") return std::make_unique<optim::Adam>(model.named_parameters(), schedule, l2);
  if (config.optimizer == "sgd") {
    return std::make_unique<optim::SGD>(model.named_parameters(), schedule, l2, optim::SgdOptions{config.momentum});
  }
  fail("unknown optimizer '", config.optimizer, "' (valid: adam, sgd)");
}

void check_config(const TrainConfig& config) {
  KILN_CHECK(config.epochs >= 0, "train: epochs must not be negative, got ", config.epochs);
  KILN_CHECK(config.batch_size > 0, "train: batch size must be positive, got ", config.batch_size);
  KILN_CHECK(config.lr > 0 && config.lr_decay_rate > 0 && config.lr_decay_steps > 0,
             "train: learning rate, decay rate and decay steps must be positive, got ", config.lr, ", ",
             config.lr_decay_rate, " and ", config.lr_decay_steps);
  KILN_CHECK(config.weight_decay >= 0 && config.momentum >= 0, "train: weight decay and momentum must not be "
             "negative, got ", config.weight_decay, " and ", config.momentum);
  KILN_CHECK(config.limit_train >= 0 && config.early_stopping >= 0,
             "train: limit_train and early_stopping must not be negative");
}

bool same_statistics(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::abs(a[i] - b[i]) > 1e-9 * std::max(1.0, std::abs(a[i]))) return false;
  }
  return true;
}

}  // namespace

std::string to_json(const TrainConfig& config) {
  const Json json = {{"model", config.model},
                     {"epochs", config.epochs},
                     {"batch_size", config.batch_size},
                     {"optimizer", config.optimizer},
                     {"lr", config.lr},
                     {"lr_decay_rate", config.lr_decay_rate},
                     {"lr_decay_steps", config.lr_decay_steps},
                     {"lr_staircase", config.lr_staircase},
                     {"weight_decay", config.weight_decay},
                     {"momentum", config.momentum},
                     {"seed", config.seed},
                     {"val_fraction", config.val_fraction},
                     {"limit_train", config.limit_train},
                     {"early_stopping", config.early_stopping}};
  return json.dump();
}

TrainConfig train_config_from_json(const std::string& text) {
  const Json json = Json::parse(text, nullptr, false);
  KILN_CHECK(json.is_object(), "train config: not a JSON object: ", text);
  TrainConfig config;
  const auto read = [&json](const char* key, auto& field) {
    if (!json.contains(key)) return;
    try {
      json.at(key).get_to(field);
    } catch (const Json::exception&) {
      fail("train config: '", key, "' has the wrong type: ", json.at(key).dump());
    }
  };
  read("model", config.model);
  read("epochs", config.epochs);
  read("batch_size", config.batch_size);
  read("optimizer", config.optimizer);
  read("lr", config.lr);
  read("lr_decay_rate", config.lr_decay_rate);
  read("lr_decay_steps", config.lr_decay_steps);
  read("lr_staircase", config.lr_staircase);
  read("weight_decay", config.weight_decay);
  read("momentum", config.momentum);
  read("seed", config.seed);
  read("val_fraction", config.val_fraction);
  read("limit_train", config.limit_train);
  read("early_stopping", config.early_stopping);
  return config;
}

TrainConfig read_train_config(const std::string& checkpoint_path) {
  const SafetensorsFile file = load_safetensors(checkpoint_path);
  return train_config_from_json(read_checkpoint_info(file, checkpoint_path).train_config);
}

Trainer::Trainer(TrainConfig config, const data::LabelledImages& training_set)
    : config_(std::move(config)), shuffle_(stream_seed(config_.seed, shuffle_stream)) {
  check_config(config_);
  KILN_CHECK(!training_set.classes.empty(), "train: the training set names no classes");
  Generator split_generator(stream_seed(config_.seed, split_stream));
  TrainValidationSplit split =
      split_validation(take_first(training_set, config_.limit_train), config_.val_fraction, split_generator);
  train_ = std::move(split.train);
  validation_ = std::move(split.validation);
  info_.input = channel_statistics(train_.images);
  normalize(train_.images, info_.input);
  normalize(validation_.images, info_.input);

  Generator initialisation(config_.seed);
  model_ = models::make_model(config_.model, initialisation);
  model_->to(config_.device);
  optimizer_ = make_optimizer(config_, *model_);

  info_.model = config_.model;
  info_.classes = training_set.classes;
  info_.seed = config_.seed;
  info_.shuffle_rng = shuffle_.state();
  if (Generator* dropout = models::training_generator(*model_)) info_.dropout_rng = dropout->state();
  info_.train_config = to_json(config_);
}

void Trainer::resume(const std::string& checkpoint_path) {
  const SafetensorsFile file = load_safetensors(checkpoint_path);
  CheckpointInfo saved = read_checkpoint_info(file, checkpoint_path);
  const auto mismatch = [&](const char* what, const auto& saved_value, const auto& current) {
    fail("cannot resume from '", checkpoint_path, "': it was trained with ", what, " ", saved_value, ", not ",
         current);
  };
  if (saved.model != config_.model) mismatch("model", saved.model, config_.model);
  if (saved.seed != config_.seed) mismatch("seed", saved.seed, config_.seed);
  if (!same_statistics(saved.input.mean, info_.input.mean) || !same_statistics(saved.input.std, info_.input.std)) {
    fail("cannot resume from '", checkpoint_path, "': its training images differ from these (other data, "
         "--limit-train or --val-fraction: the input statistics do not match)");
  }
  load_module_tensors(*model_, file, checkpoint_path);
  load_optimizer_state(optimizer_state_path(checkpoint_path), *optimizer_, config_.optimizer, saved.step);
  shuffle_.set_state(saved.shuffle_rng);
  if (Generator* dropout = models::training_generator(*model_)) {
    KILN_CHECK(saved.dropout_rng.has_value(), "cannot resume from '", checkpoint_path,
               "': its rng_state has no dropout stream");
    dropout->set_state(*saved.dropout_rng);
  }
  saved.train_config = info_.train_config;
  info_ = std::move(saved);
  owns_out_dir_ = true;
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
    EpochStats stats;
    if (!train_epoch(hooks, stats)) {
      if (writes_files) save_last();
      // Like a resume from that checkpoint, a later fit() runs the interrupted epoch again with the same draws.
      shuffle_.set_state(info_.shuffle_rng);
      if (Generator* dropout = models::training_generator(*model_)) dropout->set_state(*info_.dropout_rng);
      return TrainOutcome::interrupted;
    }
    const ClassificationReport validation = evaluate(*model_, validation_, config_.batch_size, config_.device);
    stats.val_loss = validation.loss;
    stats.val_accuracy = validation.accuracy;
    stats.seconds = seconds_since(epoch_start);
    stats.improved = validation.loss < info_.best_val_loss;

    info_.epoch = stats.epoch;
    info_.step = optimizer_->steps_taken();
    info_.shuffle_rng = shuffle_.state();
    if (Generator* dropout = models::training_generator(*model_)) info_.dropout_rng = dropout->state();
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
  model_->train();
  BatchSampler sampler(train_, config_.batch_size);
  sampler.set_order(permutation(sampler.size(), shuffle_));
  const std::int64_t steps = sampler.batch_count();
  const std::int64_t remaining_epochs = config_.epochs - stats.epoch;
  ConfusionMatrix confusion(train_.classes.size(), std::vector<std::int64_t>(train_.classes.size(), 0));
  double loss_sum = 0;
  std::int64_t images = 0;
  const auto start = Clock::now();
  for (std::int64_t step = 0; step < steps; ++step) {
    if (hooks.stop_requested != nullptr && hooks.stop_requested->load()) return false;
    const Batch batch = sampler.batch(step);
    optimizer_->zero_grad();
    const Tensor logits = (*model_)(batch.images.to(config_.device));
    const Tensor loss = cross_entropy(logits, batch.labels.to(config_.device));
    loss.backward();
    stats.lr = optimizer_->learning_rate();
    optimizer_->step();

    const double batch_loss = loss.item();
    KILN_CHECK(std::isfinite(batch_loss), "training diverged: the loss is ", batch_loss, " at epoch ", stats.epoch,
               " step ", step + 1, " (try a lower learning rate)");
    const std::int64_t rows = batch.labels.numel();
    loss_sum += batch_loss * static_cast<double>(rows);
    images += rows;
    count_predictions(logits.detach(), batch.labels, confusion);
    if (hooks.on_step) {
      const double elapsed = seconds_since(start);
      const double per_step = elapsed / static_cast<double>(step + 1);
      hooks.on_step({stats.epoch, config_.epochs, step + 1, steps, loss_sum / static_cast<double>(images),
                     static_cast<double>(images) / elapsed,
                     per_step * static_cast<double>(steps - step - 1 + remaining_epochs * steps)});
    }
  }
  const double seconds = seconds_since(start);
  stats.train_loss = images > 0 ? loss_sum / static_cast<double>(images) : 0.0;
  stats.train_accuracy = accuracy(confusion);
  stats.images_per_second = seconds > 0 ? static_cast<double>(images) / seconds : 0.0;
  return true;
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
                     {"seconds", stats.seconds},
                     {"images_per_second", stats.images_per_second}};
  const std::string path = (std::filesystem::path(config_.out_dir) / "log.jsonl").string();
  std::ofstream log(path, std::ios::app);
  log << line.dump() << "\n";
  KILN_CHECK(log.flush(), "cannot append to '", path, "'");
}

}  // namespace kiln::train
