#include "kiln/train/train_config.h"

#include <nlohmann/json.hpp>

#include "kiln/error.h"

namespace kiln::train {

namespace {
using Json = nlohmann::ordered_json;
}  // namespace

std::uint64_t stream_seed(std::uint64_t seed, RunStream stream) {
  std::uint64_t z = seed + static_cast<std::uint64_t>(stream) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::string to_json(const TrainConfig& config) {
  const Json json = {{"model", config.model},
                     {"model_options", config.model_options},
                     {"epochs", config.epochs},
                     {"batch_size", config.batch_size},
                     {"optimizer", config.optimizer},
                     {"lr", config.lr},
                     {"lr_decay_rate", config.lr_decay_rate},
                     {"lr_decay_steps", config.lr_decay_steps},
                     {"lr_staircase", config.lr_staircase},
                     {"weight_decay", config.weight_decay},
                     {"l2_all", config.l2_all},
                     {"momentum", config.momentum},
                     {"seed", config.seed},
                     {"val_fraction", config.val_fraction},
                     {"limit_train", config.limit_train},
                     {"early_stopping", config.early_stopping},
                     {"data", config.data},
                     {"val_data", config.val_data},
                     {"normalize", config.normalize},
                     {"square_crop", config.square_crop},
                     {"augment_flip", config.augment_flip},
                     {"augment_crop_padding", config.augment_crop_padding},
                     {"batch_schedule", config.batch_schedule},
                     {"dropout_schedule", config.dropout_schedule},
                     {"freeze_bn_stats", config.freeze_bn_stats},
                     {"precise_bn_images", config.precise_bn_images}};
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
  read("model_options", config.model_options);
  read("epochs", config.epochs);
  read("batch_size", config.batch_size);
  read("optimizer", config.optimizer);
  read("lr", config.lr);
  read("lr_decay_rate", config.lr_decay_rate);
  read("lr_decay_steps", config.lr_decay_steps);
  read("lr_staircase", config.lr_staircase);
  read("weight_decay", config.weight_decay);
  read("l2_all", config.l2_all);
  read("momentum", config.momentum);
  read("seed", config.seed);
  read("val_fraction", config.val_fraction);
  read("limit_train", config.limit_train);
  read("early_stopping", config.early_stopping);
  read("data", config.data);
  read("val_data", config.val_data);
  read("normalize", config.normalize);
  read("square_crop", config.square_crop);
  read("augment_flip", config.augment_flip);
  read("augment_crop_padding", config.augment_crop_padding);
  read("batch_schedule", config.batch_schedule);
  read("dropout_schedule", config.dropout_schedule);
  read("freeze_bn_stats", config.freeze_bn_stats);
  read("precise_bn_images", config.precise_bn_images);
  return config;
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
  KILN_CHECK(config.augment_crop_padding >= 0, "train: --augment-crop-padding must not be negative, got ",
             config.augment_crop_padding);
  KILN_CHECK(config.freeze_bn_stats >= -1, "train: --freeze-bn-stats must be a step (0 or more), got ",
             config.freeze_bn_stats);
  KILN_CHECK(config.precise_bn_images >= 0, "train: --precise-bn must not be negative, got ",
             config.precise_bn_images);
  if (!config.batch_schedule.empty()) {
    StepSchedule::parse(config.batch_schedule, batch_schedule_flag, 1, max_batch_size, ScheduleValues::integer);
  }
  if (!config.dropout_schedule.empty()) {
    StepSchedule::parse(config.dropout_schedule, dropout_schedule_flag, 0, max_dropout);
  }
}

}  // namespace kiln::train
