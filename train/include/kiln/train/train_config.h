#pragma once
// The settings that define a training run, declared once: the table of fields (train_config_fields) drives the JSON
// that checkpoints store (so that --resume continues the run with its own settings), the validation, and kiln train's
// flags.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kiln/data/idx.h"
#include "kiln/device.h"
#include "kiln/models/options.h"
#include "kiln/train/step_schedule.h"

namespace kiln::train {

struct TrainConfig {
  std::string model = "fmnist-small";
  models::ModelOptions model_options;  // as given; the trainer fills in "classes" from the data when absent
  std::int64_t epochs = 10;
  std::int64_t batch_size = 256;
  std::string optimizer = "adam";  // "adam" or "sgd"
  double lr = 1e-3;                // learning rate at step 0
  double lr_decay_rate = 1.0;      // lr(step) = lr * rate^(step / decay_steps); 1 keeps it constant
  double lr_decay_steps = 1000;
  bool lr_staircase = false;       // floor the exponent
  double weight_decay = 1e-3;      // L2 lambda on weights (biases and batch-norm parameters excluded)
  bool l2_all = false;             // L2 on every trainable variable, biases and batch norm included
  double momentum = 0.9;           // SGD only
  std::uint64_t seed = 0;          // weights, validation split, shuffling, augmentation, dropout
  double val_fraction = 0.1;
  std::int64_t limit_train = 0;    // use only the first N training images; 0 = all (Fashion-MNIST only)
  std::int64_t early_stopping = 0;  // stop after N epochs without a lower validation loss; 0 = never

  // Data (training_data.h): the Fashion-MNIST IDX folder, a class-per-subfolder tree or the Tiny ImageNet layout.
  std::string data = data::fashion_mnist_default_folder;
  std::string val_data;            // image folders: a separate validation folder; empty = split off val_fraction
  std::string normalize;           // image folders: "[-1,1]", "imagenet", "[0,1]" or "computed"; empty = per model
  bool square_crop = false;        // image folders: centre square of the longer side (random offset when training)
  bool augment_flip = false;       // image folders: random horizontal flips when training
  std::int64_t augment_crop_padding = 0;  // image folders: pad-and-random-crop by N pixels when training

  // Recipe settings for any model; schedules by optimiser step (step_schedule.h), "V0,V1@S1,V2@S2,...".
  std::string batch_schedule;      // batch size; applies from the first epoch that starts at or after each step
  std::string dropout_schedule;    // every dropout layer's rate; applies at each step; empty = the model's own
  std::int64_t freeze_bn_stats = -1;  // from this step on batch norm uses and keeps its running statistics; -1 never
  // Before each validation, every batch norm's running statistics are recomputed from this many training images
  // (precise_batch_norm.h), unless they are frozen; 0 = off, keeping the moving averages.
  std::int64_t precise_bn_images = 0;

  // Segmentation (image and mask folders): the random scale range of training pairs, and the ignored mask label.
  double augment_scale_min = 1, augment_scale_max = 1;
  std::int64_t ignore_label = 255;
  std::string class_weights;       // "W0,W1,...": per-class loss weights; empty = none
  std::string encoder_weights;     // a torchvision state dict for the model's encoder (FCN: VGG-16); empty = none
  std::string out_dir;             // log.jsonl, best.safetensors, last.safetensors; empty = write nothing
  Device device = Device::cpu();
};

// Independent random streams of one run seed (splitmix64 of seed and stream): the weights use the seed itself.
enum class RunStream : std::uint64_t { validation_split = 1, shuffle = 2, augmentation = 3, batch_norm_statistics = 4 };
std::uint64_t stream_seed(std::uint64_t seed, RunStream stream);

// How a field's value is checked: a range (integer, number, schedule values), a list (choice), or not at all.
enum class FieldKind { integer, number, boolean, text, choice, schedule, model_options };

using FieldMember = std::variant<std::int64_t TrainConfig::*, std::uint64_t TrainConfig::*, double TrainConfig::*,
                                 bool TrainConfig::*, std::string TrainConfig::*, models::ModelOptions TrainConfig::*>;

// One setting of a run: its member, its valid values and its kiln train flag.
struct ConfigField {
  std::string key;  // the JSON key: the member's name
  FieldMember member;
  FieldKind kind;
  double min = 0, max = 0;                  // integer, number and schedule values
  bool open_min = false, open_max = false;  // numbers: the bound itself is invalid (lr > 0)
  std::vector<std::string> choices = {};    // choice; the default value is valid too (normalize's "")
  ScheduleValues schedule_values = ScheduleValues::real;
  std::string flag = {};                    // "--batch-size"; empty for model_options, set by the model's flags
  std::vector<std::string> aliases = {};    // {"-b"}
  std::string value_name = {};              // "N"; empty for switches, and for choices (the list is shown)
  std::string help = {};
};

// Every field but out_dir and device, which are not settings of the run.
const std::vector<ConfigField>& train_config_fields();

// Throws kiln::Error "<label>: ..." when the field's value in `config` is invalid.
void check_field(const TrainConfig& config, const ConfigField& field, const std::string& label);
// Every field, labelled "train config: <key>".
void check_config(const TrainConfig& config);

// The run's fields as JSON, as checkpoints store it.
std::string to_json(const TrainConfig& config);
// The inverse; absent fields keep their defaults; a mistyped or invalid one throws naming the field.
TrainConfig train_config_from_json(const std::string& json);

// The schedules, parsed; nullopt where none is set. Throw like check_config.
std::optional<StepSchedule> batch_schedule(const TrainConfig& config);
std::optional<StepSchedule> dropout_schedule(const TrainConfig& config);

// config.class_weights parsed; empty when none. Throws naming the field.
std::vector<double> class_weights(const TrainConfig& config);

// The largest batch size and dropout rate a run takes.
constexpr double max_batch_size = 1 << 20, max_dropout = 0.99;

}  // namespace kiln::train
