#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <variant>

#include "kiln/train/train_config.h"

using namespace kiln;
using train::ConfigField;
using train::TrainConfig;

namespace {

// A valid configuration with every field away from its default.
TrainConfig changed_config() {
  TrainConfig config;
  config.model = "vgg";
  config.model_options = {{"depth", "11"}, {"conv1x1", "true"}};
  config.epochs = 7;
  config.batch_size = 12;
  config.optimizer = "sgd";
  config.lr = 0.25;
  config.lr_decay_rate = 0.5;
  config.lr_decay_steps = 33;
  config.lr_staircase = true;
  config.weight_decay = 0.06;
  config.l2_all = true;
  config.momentum = 0.5;
  config.seed = (std::uint64_t(1) << 62) - 1;
  config.val_fraction = 0.3;
  config.limit_train = 100;
  config.early_stopping = 3;
  config.data = "some/images";
  config.val_data = "some/validation";
  config.normalize = "[-1,1]";
  config.square_crop = true;
  config.augment_flip = true;
  config.augment_crop_padding = 4;
  config.batch_schedule = "8,32@20000,40@60000";
  config.dropout_schedule = "0,0.3@20000";
  config.freeze_bn_stats = 146100;
  config.precise_bn_images = 200;
  config.augment_scale_min = 0.5;
  config.augment_scale_max = 2;
  config.class_weights = "0.5,1,2";
  config.ignore_label = 7;
  config.encoder_weights = "vgg16.safetensors";
  return config;
}

bool same_value(const TrainConfig& a, const TrainConfig& b, const ConfigField& field) {
  return std::visit([&](auto member) { return a.*member == b.*member; }, field.member);
}

TrainConfig loaded_with(const std::string& key, const nlohmann::json& value) {
  nlohmann::json json = nlohmann::json::parse(train::to_json(TrainConfig{}));
  json[key] = value;
  return train::train_config_from_json(json.dump());
}

}  // namespace

TEST_CASE("train config: every field round-trips through JSON", "[train]") {
  const TrainConfig config = changed_config();
  train::check_config(config);
  const TrainConfig read = train::train_config_from_json(train::to_json(config));
  for (const ConfigField& field : train::train_config_fields()) {
    INFO(field.key);
    CHECK_FALSE(same_value(config, TrainConfig{}, field));  // so that the round trip shows something
    CHECK(same_value(read, config, field));
  }
  CHECK(train::to_json(read) == train::to_json(config));
}

TEST_CASE("train config: class weights are a list of non-negative numbers; scales an ordered range", "[train]") {
  TrainConfig config;
  config.class_weights = "0.25,1,3e1";
  CHECK(train::class_weights(config) == std::vector<double>{0.25, 1, 30});
  for (const std::string bad : {"1,,2", "1,x", "-1", "1,inf", "1, 2"}) {
    INFO(bad);
    config.class_weights = bad;
    CHECK_THROWS_WITH(train::check_config(config), Catch::Contains("train config: class_weights"));
  }
  config.class_weights.clear();
  CHECK(train::class_weights(config).empty());
  config.augment_scale_min = 2;
  config.augment_scale_max = 1;
  CHECK_THROWS_WITH(train::check_config(config), Catch::Contains("augment_scale_min 2 is above augment_scale_max 1"));
}

TEST_CASE("train config: a field missing from JSON keeps its default", "[train]") {
  const TrainConfig config = changed_config();
  for (const ConfigField& missing : train::train_config_fields()) {
    INFO(missing.key);
    nlohmann::json json = nlohmann::json::parse(train::to_json(config));
    REQUIRE(json.erase(missing.key) == 1);
    const TrainConfig read = train::train_config_from_json(json.dump());
    for (const ConfigField& field : train::train_config_fields()) {
      CHECK(same_value(read, &field == &missing ? TrainConfig{} : config, field));
    }
  }
  CHECK(train::to_json(train::train_config_from_json("{}")) == train::to_json(TrainConfig{}));
}

TEST_CASE("train config: each kind of bad value in JSON is rejected naming the field", "[train]") {
  using Case = std::tuple<std::string, nlohmann::json, std::string>;
  const auto [key, value, message] = GENERATE(
      Case{"batch_size", std::int64_t(1) << 40, "train config: batch_size: 1099511627776 is out of range [1, 1048576]"},
      Case{"epochs", -1, "train config: epochs: -1 is out of range [0, 1000000000]"},
      Case{"epochs", "ten", "train config: epochs: expected an integer, got \"ten\""},
      Case{"epochs", 2.5, "train config: epochs: expected an integer, got 2.5"},
      Case{"epochs", std::numeric_limits<std::uint64_t>::max(),
           "train config: epochs: 18446744073709551615 is out of range [0, 1000000000]"},
      Case{"seed", -1, "train config: seed: -1 is out of range [0, 4611686018427387904]"},
      Case{"lr", 0, "train config: lr: 0 is out of range (0, 100]"},
      Case{"lr", -0.1, "train config: lr: -0.1 is out of range (0, 100]"},
      Case{"lr", "fast", "train config: lr: expected a number, got \"fast\""},
      Case{"momentum", 1.5, "train config: momentum: 1.5 is out of range [0, 1]"},
      Case{"weight_decay", -1e-3, "train config: weight_decay: -0.001 is out of range [0, 100]"},
      Case{"lr_staircase", 1, "train config: lr_staircase: expected true or false, got 1"},
      Case{"optimizer", "lion", "train config: optimizer: 'lion' is not one of adam, sgd"},
      Case{"model", "resnet", "train config: model: 'resnet' is not one of fmnist-small"},
      Case{"normalize", "unit", "train config: normalize: 'unit' is not one of [-1,1], imagenet, [0,1], computed"},
      Case{"data", 3, "train config: data: expected a string, got 3"},
      Case{"batch_schedule", "8,32.5@5", "train config: batch_schedule: value 32.5 in '8,32.5@5' is not a whole"},
      Case{"dropout_schedule", "0,1.5@5", "train config: dropout_schedule: value 1.5 in '0,1.5@5' is outside"},
      Case{"freeze_bn_stats", -2, "train config: freeze_bn_stats: -2 is out of range [-1, 4611686018427387904]"},
      Case{"model_options", nlohmann::json{{"depth", 11}},
           "train config: model_options: expected an object of strings, got {\"depth\":11}"});
  CHECK_THROWS_WITH(loaded_with(key, value), Catch::StartsWith(message));
}

TEST_CASE("train config: a NaN saved as JSON null is rejected", "[train]") {
  TrainConfig config;
  config.lr = std::nan("");
  CHECK_THROWS_WITH(train::check_config(config), "train config: lr: nan is out of range (0, 100]");
  CHECK_THROWS_WITH(train::train_config_from_json(train::to_json(config)),
                    "train config: lr: expected a number, got null");
  CHECK_THROWS_WITH(train::train_config_from_json("[1]"), Catch::Contains("train config: not a JSON object"));
}

TEST_CASE("train config: check_config and the schedules name the field", "[train]") {
  TrainConfig config;
  CHECK_NOTHROW(train::check_config(config));  // the defaults are valid, normalize's empty choice included
  CHECK_FALSE(train::batch_schedule(config));
  config.batch_size = 0;
  CHECK_THROWS_WITH(train::check_config(config), "train config: batch_size: 0 is out of range [1, 1048576]");
  config = TrainConfig{};
  config.dropout_schedule = "0.3@5";
  CHECK_THROWS_WITH(train::check_config(config), Catch::StartsWith("train config: dropout_schedule: '0.3@5'"));
  CHECK_THROWS_WITH(train::dropout_schedule(config), Catch::StartsWith("train config: dropout_schedule: "));
  config = changed_config();
  CHECK(train::batch_schedule(config)->at(59999) == 32);
  CHECK(train::dropout_schedule(config)->at(20000) == 0.3);
}

TEST_CASE("train config: keys and flags are unique", "[train]") {
  std::set<std::string> keys, flags;
  for (const ConfigField& field : train::train_config_fields()) {
    CHECK(keys.insert(field.key).second);
    for (const std::string& flag : field.aliases) CHECK(flags.insert(flag).second);
    if (!field.flag.empty()) CHECK(flags.insert(field.flag).second);
  }
}
