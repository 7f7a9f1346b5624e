#pragma once
// A run's training and validation sources from its TrainConfig: the Fashion-MNIST IDX folder in memory (normalised
// with the training part's statistics), or image files (a class-per-subfolder tree, or the Tiny ImageNet layout
// recognised by its wnids.txt) decoded by the asynchronous reader, resized to the model's image_size and normalised
// by a preset or statistics computed from the training images.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/data/idx.h"
#include "kiln/data/image_folder.h"
#include "kiln/data/data_source.h"
#include "kiln/train/checkpoint.h"
#include "kiln/train/train_config.h"

namespace kiln::train {

struct TrainingData {
  std::unique_ptr<data::DataSource> train, validation;
  data::Normalization input;                        // what both sources' images are normalised with
  std::string preprocess = "{}";              // for checkpoints (preprocess.h); "{}" for in-memory data
  std::vector<data::SkippedFile> not_images;  // files the listing left out (not JPEG, PNG or BMP by name)
  std::vector<std::array<std::uint8_t, 3>> class_colors;  // segmentation sets: each class's mask colour
};

// Decoding settings that do not change what a run computes.
struct ReaderSettings {
  int threads = 4;
  bool pin_memory = false;  // for CUDA training
};

// Images sampled to compute the "computed" normalisation, spread evenly over the training part.
constexpr std::int64_t normalization_sample = 1000;

// True when `folder` holds images/ and masks/ (a segmentation set, data/segmentation_set.h).
bool is_segmentation_folder(const std::string& folder);

// config.data as a segmentation set (validation: config.val_data, else a seeded split of config.val_fraction): pairs
// resized to the model's image_size, augmented by random scale, window and flip when training, normalised by a
// preset. Throws naming the folder or flag that is wrong.
TrainingData segmentation_file_data(const TrainConfig& config, const ReaderSettings& reader);

// True when `folder` holds Fashion-MNIST's train-images-idx3-ubyte (or .gz).
bool is_fashion_mnist_folder(const std::string& folder);

// Holds out config.val_fraction by the run's seed (after config.limit_train) and normalises both parts in place
// with the training part's per-channel statistics.
TrainingData in_memory_data(const data::LabelledImages& set, const TrainConfig& config);

// config.data as image files (validation: config.val_data, else Tiny ImageNet's val/, else a stratified seeded
// split of config.val_fraction). Throws naming the folder or flag that is wrong.
TrainingData image_file_data(const TrainConfig& config, const ReaderSettings& reader);

// A segmentation set when config.data holds images/ and masks/; Fashion-MNIST when it is the IDX folder (or does
// not exist, for its error message); else image files.
TrainingData load_training_data(const TrainConfig& config, const ReaderSettings& reader);

// What a checkpoint is evaluated on (kiln eval), from any folder kiln train accepts: Fashion-MNIST's test split,
// normalised with the checkpoint's input statistics; Tiny ImageNet's val/ (recognised by its wnids.txt); or a
// class-per-subfolder tree read with the checkpoint's classes. Image files are prepared as the checkpoint's
// preprocessing says, unaugmented.
struct EvaluationData {
  std::unique_ptr<data::DataSource> source;
  std::string description;            // "the Fashion-MNIST test split", "image folder DIR"
  Tensor raw_images;                  // in-memory sets: the images before normalisation, for the report's grid
  std::vector<std::int32_t> labels;   // of raw_images
  std::vector<data::SkippedFile> not_images;
};
EvaluationData evaluation_data(const CheckpointInfo& info, const std::string& folder, const ReaderSettings& reader);

}  // namespace kiln::train
