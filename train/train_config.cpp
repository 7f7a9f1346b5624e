#include "kiln/train/train_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <type_traits>
#include <utility>

#include "kiln/error.h"
#include "kiln/models/registry.h"

namespace kiln::train {

namespace {

using Json = nlohmann::ordered_json;

std::string listed(const std::vector<std::string>& items, const std::string& last_separator) {
  std::string text;
  for (std::size_t i = 0; i < items.size(); ++i) {
    text.append(i == 0 ? "" : i + 1 == items.size() ? last_separator : ", ").append(items[i]);
  }
  return text;
}

std::string label_of(const ConfigField& field) { return "train config: " + field.key; }

std::string range_of(const ConfigField& field) {
  std::ostringstream text;
  const auto bound = [&](double value) {
    if (field.kind == FieldKind::integer) {
      text << static_cast<std::int64_t>(value);
    } else {
      text << value;
    }
  };
  text << (field.open_min ? "(" : "[");
  bound(field.min);
  text << ", ";
  bound(field.max);
  text << (field.open_max ? ")" : "]");
  return text.str();
}

template <class Value>
bool in_range(const ConfigField& field, Value value) {
  if constexpr (std::is_integral_v<Value>) {
    return std::cmp_greater_equal(value, static_cast<std::int64_t>(field.min)) &&
           std::cmp_less_equal(value, static_cast<std::int64_t>(field.max));
  } else {
    return (field.open_min ? value > field.min : value >= field.min) &&
           (field.open_max ? value < field.max : value <= field.max);
  }
}

std::optional<StepSchedule> parse_schedule(const ConfigField& field, const std::string& text,
                                           const std::string& label) {
  if (text.empty()) return std::nullopt;
  return StepSchedule::parse(text, label, field.min, field.max, field.schedule_values);
}

std::optional<StepSchedule> schedule_of(const TrainConfig& config, std::string TrainConfig::*member) {
  const std::vector<ConfigField>& fields = train_config_fields();
  const auto field = std::find_if(fields.begin(), fields.end(), [member](const ConfigField& candidate) {
    return candidate.member == FieldMember(member);
  });
  return parse_schedule(*field, config.*member, label_of(*field));
}

template <class Value>
const char* expected() {
  if constexpr (std::is_same_v<Value, bool>) {
    return "true or false";
  } else if constexpr (std::is_integral_v<Value>) {
    return "an integer";
  } else if constexpr (std::is_floating_point_v<Value>) {
    return "a number";
  } else if constexpr (std::is_same_v<Value, std::string>) {
    return "a string";
  } else {
    return "an object of strings";
  }
}

template <class Value>
bool has_type(const Json& value) {
  if constexpr (std::is_same_v<Value, bool>) {
    return value.is_boolean();
  } else if constexpr (std::is_integral_v<Value>) {
    return value.is_number_integer();
  } else if constexpr (std::is_floating_point_v<Value>) {
    return value.is_number();
  } else if constexpr (std::is_same_v<Value, std::string>) {
    return value.is_string();
  } else {
    return value.is_object() &&
           std::all_of(value.begin(), value.end(), [](const Json& item) { return item.is_string(); });
  }
}

// A JSON integer beyond the member's type fails like any value outside the field's range.
template <class Value>
bool fits(const Json& value) {
  if constexpr (std::is_integral_v<Value> && !std::is_same_v<Value, bool>) {
    return value.is_number_unsigned() ? std::in_range<Value>(value.get<std::uint64_t>())
                                      : std::in_range<Value>(value.get<std::int64_t>());
  } else {
    return true;
  }
}

void read_field(const Json& value, const ConfigField& field, TrainConfig& config) {
  const std::string label = label_of(field);
  std::visit(
      [&](auto member) {
        using Value = std::remove_reference_t<decltype(config.*member)>;
        KILN_CHECK(has_type<Value>(value), label, ": expected ", expected<Value>(), ", got ", value.dump());
        KILN_CHECK(fits<Value>(value), label, ": ", value.dump(), " is out of range ", range_of(field));
        config.*member = value.get<Value>();
      },
      field.member);
  check_field(config, field, label);
}

}  // namespace

std::uint64_t stream_seed(std::uint64_t seed, RunStream stream) {
  std::uint64_t z = seed + static_cast<std::uint64_t>(stream) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The key is the member's name, so that a field's JSON, error messages and code all read alike.
#define KILN_FIELD(name) .key = #name, .member = &TrainConfig::name

const std::vector<ConfigField>& train_config_fields() {
  constexpr double huge = 1e9, any_step = 0x1p62;
  using enum FieldKind;
  static const std::vector<ConfigField> fields = {
      {KILN_FIELD(model), .kind = choice, .choices = models::model_names(), .flag = "--model", .value_name = "NAME",
       .help = "the net to train: " + listed(models::model_names(), " or ")},
      {KILN_FIELD(model_options), .kind = model_options},
      {KILN_FIELD(epochs), .kind = integer, .min = 0, .max = huge, .flag = "--epochs", .aliases = {"-e"},
       .value_name = "N", .help = "epochs in all (a resumed run counts its earlier ones)"},
      {KILN_FIELD(batch_size), .kind = integer, .min = 1, .max = max_batch_size, .flag = "--batch-size",
       .aliases = {"-b"}, .value_name = "N", .help = "images per step"},
      {KILN_FIELD(optimizer), .kind = choice, .choices = {"adam", "sgd"}, .flag = "--optimizer",
       .help = "the optimiser"},
      {KILN_FIELD(lr), .kind = number, .min = 0, .max = 100, .open_min = true, .flag = "--lr", .aliases = {"-lr"},
       .value_name = "X", .help = "learning rate"},
      {KILN_FIELD(lr_decay_rate), .kind = number, .min = 1e-12, .max = 100, .flag = "--lr-decay-rate",
       .value_name = "X", .help = "lr * X^(step / decay steps); 1 keeps it constant"},
      {KILN_FIELD(lr_decay_steps), .kind = number, .min = 1e-6, .max = 1e15, .flag = "--lr-decay-steps",
       .value_name = "N", .help = "steps per decay by the rate"},
      {KILN_FIELD(lr_staircase), .kind = boolean, .flag = "--lr-staircase",
       .help = "decay in whole steps of --lr-decay-steps"},
      {KILN_FIELD(weight_decay), .kind = number, .min = 0, .max = 100, .flag = "--weight-decay", .value_name = "X",
       .help = "L2 lambda on the weights (not biases or batch-norm)"},
      {KILN_FIELD(l2_all), .kind = boolean, .flag = "--l2-all",
       .help = "L2 on every trainable variable, biases and batch norm included"},
      {KILN_FIELD(momentum), .kind = number, .min = 0, .max = 1, .flag = "--momentum",
       .value_name = "X", .help = "SGD momentum"},
      {KILN_FIELD(seed), .kind = integer, .min = 0, .max = any_step, .flag = "--seed", .value_name = "N",
       .help = "seeds weights, validation split, shuffling and dropout"},
      {KILN_FIELD(val_fraction), .kind = number, .min = 1e-3, .max = 0.9, .flag = "--val-fraction", .value_name = "X",
       .help = "share of the training images held out for validation"},
      {KILN_FIELD(limit_train), .kind = integer, .min = 0, .max = huge, .flag = "--limit-train", .value_name = "N",
       .help = "Fashion-MNIST: use only the first N training images; 0 = all"},
      {KILN_FIELD(early_stopping), .kind = integer, .min = 0, .max = huge, .flag = "--early-stopping",
       .aliases = {"-es"}, .value_name = "N", .help = "stop after N epochs without a lower validation loss; 0 = never"},
      {KILN_FIELD(data), .kind = text, .flag = "--data", .aliases = {"-t"}, .value_name = "DIR",
       .help = "the Fashion-MNIST folder, a class-per-subfolder image tree or Tiny ImageNet"},
      {KILN_FIELD(val_data), .kind = text, .flag = "--val-data", .aliases = {"-v"}, .value_name = "DIR",
       .help = "image folders: a separate validation folder (else --val-fraction)"},
      {KILN_FIELD(normalize), .kind = choice, .choices = {"[-1,1]", "imagenet", "[0,1]", "computed"},
       .flag = "--normalize",
       .help = "image folders: input normalisation (default: the model's own, shown by kiln info)"},
      {KILN_FIELD(square_crop), .kind = boolean, .flag = "--square-crop",
       .help = "image folders: centre square of the longer side (a random one when training)"},
      {KILN_FIELD(augment_flip), .kind = boolean, .flag = "--augment-flip",
       .help = "image folders: random horizontal flips when training"},
      {KILN_FIELD(augment_crop_padding), .kind = integer, .min = 0, .max = 1 << 12, .flag = "--augment-crop-padding",
       .value_name = "N", .help = "image folders: pad by N pixels and crop at random when training"},
      {KILN_FIELD(batch_schedule), .kind = schedule, .min = 1, .max = max_batch_size,
       .schedule_values = ScheduleValues::integer, .flag = "--batch-schedule", .value_name = "B0,B1@STEP,...",
       .help = "batch size by optimiser step, from the first epoch starting at or after STEP (else --batch-size)"},
      {KILN_FIELD(dropout_schedule), .kind = schedule, .min = 0, .max = max_dropout, .flag = "--dropout-schedule",
       .value_name = "X0,X1@STEP,...", .help = "every dropout layer's rate by optimiser step"},
      {KILN_FIELD(freeze_bn_stats), .kind = integer, .min = -1, .max = any_step, .flag = "--freeze-bn-stats",
       .value_name = "STEP", .help = "from this step on batch norm uses and keeps its running statistics; -1 = never"},
      {KILN_FIELD(precise_bn_images), .kind = integer, .min = 0, .max = huge, .flag = "--precise-bn",
       .value_name = "N",
       .help = "before each validation, recompute batch-norm statistics from N training images (precise BN); 0 = off"},
      {KILN_FIELD(augment_scale_min), .kind = number, .min = 0.05, .max = 16, .flag = "--augment-scale-min",
       .value_name = "X", .help = "segmentation: smallest random scale of image and mask when training"},
      {KILN_FIELD(augment_scale_max), .kind = number, .min = 0.05, .max = 16, .flag = "--augment-scale-max",
       .value_name = "X", .help = "segmentation: largest random scale of image and mask when training"},
      {KILN_FIELD(class_weights), .kind = text, .flag = "--class-weights", .value_name = "W0,W1,...",
       .help = "per-class weights of the loss, one per class; empty = all 1"},
      {KILN_FIELD(ignore_label), .kind = integer, .min = 0, .max = 0x7fffffff, .flag = "--ignore-label",
       .value_name = "N", .help = "segmentation: mask label that counts in no loss or metric"},
      {KILN_FIELD(encoder_weights), .kind = text, .flag = "--encoder-weights", .value_name = "FILE",
       .help = "initialise the model's encoder from a torchvision state dict (safetensors; FCN: VGG-16)"},
  };
  return fields;
}

#undef KILN_FIELD

void check_field(const TrainConfig& config, const ConfigField& field, const std::string& label) {
  std::visit(
      [&](auto member) {
        const auto& value = config.*member;
        using Value = std::remove_cvref_t<decltype(value)>;
        if constexpr (std::is_arithmetic_v<Value> && !std::is_same_v<Value, bool>) {
          KILN_CHECK(in_range(field, value), label, ": ", value, " is out of range ", range_of(field));
        } else if constexpr (std::is_same_v<Value, std::string>) {
          if (field.kind == FieldKind::schedule) parse_schedule(field, value, label);
          const bool valid = field.kind != FieldKind::choice || value == TrainConfig{}.*member ||
                             std::find(field.choices.begin(), field.choices.end(), value) != field.choices.end();
          KILN_CHECK(valid, label, ": '", value, "' is not one of ", listed(field.choices, ", "));
        }
      },
      field.member);
}

void check_config(const TrainConfig& config) {
  for (const ConfigField& field : train_config_fields()) check_field(config, field, label_of(field));
  static_cast<void>(class_weights(config));
  KILN_CHECK(config.augment_scale_min <= config.augment_scale_max, "train config: augment_scale_min ",
             config.augment_scale_min, " is above augment_scale_max ", config.augment_scale_max);
}

std::string to_json(const TrainConfig& config) {
  Json json = Json::object();
  for (const ConfigField& field : train_config_fields()) {
    std::visit([&](auto member) { json[field.key] = config.*member; }, field.member);
  }
  return json.dump();
}

TrainConfig train_config_from_json(const std::string& text) {
  const Json json = Json::parse(text, nullptr, false);
  KILN_CHECK(json.is_object(), "train config: not a JSON object: ", text);
  TrainConfig config;
  for (const ConfigField& field : train_config_fields()) {
    if (json.contains(field.key)) read_field(json.at(field.key), field, config);
  }
  return config;
}

std::vector<double> class_weights(const TrainConfig& config) {
  std::vector<double> weights;
  if (config.class_weights.empty()) return weights;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = config.class_weights.find(',', start);
    const std::string text = config.class_weights.substr(start, comma == std::string::npos ? comma : comma - start);
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    KILN_CHECK(error == std::errc() && end == text.data() + text.size() && std::isfinite(value) && value >= 0,
               "train config: class_weights: '", text, "' is not a finite non-negative number (in '",
               config.class_weights, "')");
    weights.push_back(value);
    if (comma == std::string::npos) return weights;
    start = comma + 1;
  }
}

std::optional<StepSchedule> batch_schedule(const TrainConfig& config) {
  return schedule_of(config, &TrainConfig::batch_schedule);
}

std::optional<StepSchedule> dropout_schedule(const TrainConfig& config) {
  return schedule_of(config, &TrainConfig::dropout_schedule);
}

}  // namespace kiln::train
