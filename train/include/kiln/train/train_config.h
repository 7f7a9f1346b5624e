#pragma once
// The settings that define a training run, as checkpoints store them (JSON) so that --resume continues the run with
// its own data, model options and schedules.
#include <cstdint>
#include <string>

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
  bool l2_all = false;             // L2 on every trainable variable, biases and batch norm included (RoomNet)
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

  // RoomNet's recipe (step_schedule.h): schedules by optimiser step, "V0,V1@S1,V2@S2,...".
  std::string batch_schedule;      // batch size; applies from the first epoch that starts at or after each step
  std::string dropout_schedule;    // every dropout layer's rate; applies at each step; empty = the model's own
  std::int64_t freeze_bn_stats = -1;  // from this step on batch norm uses and keeps its running statistics; -1 never
  // Before each validation, every batch norm's running statistics are recomputed from this many training images
  // (precise_batch_norm.h), unless they are frozen; 0 = off, keeping the moving averages.
  std::int64_t precise_bn_images = 0;

  std::string out_dir;             // log.jsonl, best.safetensors, last.safetensors; empty = write nothing
  Device device = Device::cpu();
};

// Independent random streams of one run seed (splitmix64 of seed and stream): the weights use the seed itself.
enum class RunStream : std::uint64_t { validation_split = 1, shuffle = 2, augmentation = 3, batch_norm_statistics = 4 };
std::uint64_t stream_seed(std::uint64_t seed, RunStream stream);

// The schedules' flags (named in their errors) and value ranges.
inline constexpr const char* batch_schedule_flag = "--batch-schedule";
inline constexpr const char* dropout_schedule_flag = "--dropout-schedule";
constexpr double max_batch_size = 1 << 20, max_dropout = 0.99;

// The run-defining fields as JSON (everything but out_dir and device), as checkpoints store it.
std::string to_json(const TrainConfig& config);
// The inverse; absent fields keep their defaults, mistyped ones throw.
TrainConfig train_config_from_json(const std::string& json);
// Throws naming the setting (and for schedules the flag) when a value is out of range or malformed.
void check_config(const TrainConfig& config);

}  // namespace kiln::train
