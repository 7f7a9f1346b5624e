#pragma once
// Training checkpoints in safetensors. Tensors are the model's parameters and buffers under their dotted module
// names; "__metadata__" holds (all as strings) "model", "model_options" (JSON), "classes" (JSON array),
// "class_colors" (segmentation models only: JSON array of [r, g, b], one per class, the colours of their masks),
// "input_mean"/"input_std" (JSON arrays), "epoch", "step", "seed", "rng_state" (JSON {"shuffle": {seed, offset}}
// and each of the model's named generators, e.g. "dropout": {seed, offset}), "best_val_loss",
// "epochs_without_improvement", "train_config" (JSON) and "preprocess" (JSON, preprocess.h; "{}" for models trained
// on in-memory tensors, and when absent). Optimiser state lives in a sibling file (see
// optimizer_state_path) so that a checkpoint meant for inference stays small.
#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kiln/nn/module.h"
#include "kiln/optim/optimizer.h"
#include "kiln/safetensors.h"
#include "kiln/data/dataset.h"

namespace kiln::train {

struct CheckpointInfo {
  std::string model;                   // a models::make_model name
  std::string model_options = "{}";    // JSON object of strings: the models::ModelOptions the model was built with
  std::vector<std::string> classes;
  std::vector<std::array<std::uint8_t, 3>> class_colors;  // segmentation: each class's mask colour; else empty
  data::Normalization input;                 // what the model's inputs were normalised with
  std::int64_t epoch = 0;              // completed epochs
  std::int64_t step = 0;               // optimiser steps taken
  std::uint64_t seed = 0;
  GeneratorState shuffle_rng;          // at the start of the next epoch to run
  std::map<std::string, GeneratorState> model_rngs;  // the model's named generators (nn::Module::named_generators)
  double best_val_loss = std::numeric_limits<double>::infinity();
  std::int64_t epochs_without_improvement = 0;
  std::string train_config = "{}";     // JSON of the TrainConfig that made the run
  std::string preprocess = "{}";       // JSON of the image preprocessing (train/preprocess.h), "{}" when none
};

void save_checkpoint(const std::string& path, const nn::Module& model, const CheckpointInfo& info);

// Reads the metadata; a missing or malformed entry throws naming it and the file.
CheckpointInfo read_checkpoint_info(const SafetensorsFile& file, const std::string& path);

// Copies every parameter and buffer of `model` from `file`, converting the dtype. A tensor that is missing, has
// another shape, or that the model lacks throws naming it; nothing is copied unless all of them fit.
void load_module_tensors(nn::Module& model, const SafetensorsFile& file, const std::string& path);

struct LoadedModel {
  std::shared_ptr<nn::Module> model;
  CheckpointInfo info;
};
// Builds the model the checkpoint names, loads its tensors and restores its training generator.
LoadedModel load_model(const std::string& path);

// "DIR/last.safetensors" -> "DIR/last.optim.safetensors".
std::string optimizer_state_path(const std::string& checkpoint_path);
// The optimiser's state tensors with metadata "optimizer" (its name) and "step".
void save_optimizer_state(const std::string& path, const optim::Optimizer& optimizer,
                          const std::string& optimizer_name);
// Throws when the file belongs to another optimiser or its step is not `expected_step` (the checkpoint's).
void load_optimizer_state(const std::string& path, optim::Optimizer& optimizer, const std::string& optimizer_name,
                          std::int64_t expected_step);

}  // namespace kiln::train
