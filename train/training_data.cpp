#include "kiln/train/training_data.h"

#include <cmath>
#include <filesystem>

#include "kiln/data/image_dataset.h"
#include "kiln/data/mask_image.h"
#include "kiln/data/segmentation_dataset.h"
#include "kiln/data/tiny_imagenet.h"
#include "kiln/models/registry.h"
#include "kiln/train/preprocess.h"

namespace kiln::train {

namespace fs = std::filesystem;

namespace {

bool is_tiny_imagenet_folder(const std::string& folder) { return fs::exists(fs::path(folder) / "wnids.txt"); }

std::vector<std::array<std::uint8_t, 3>> colors_of(const data::ClassList& classes) {
  std::vector<std::array<std::uint8_t, 3>> colors;
  for (const data::SegmentationClass& entry : classes) colors.push_back(entry.color);
  return colors;
}

// A seeded split of round(fraction * N) pairs into the validation part; both parts keep the set's order.
std::pair<data::SegmentationSet, data::SegmentationSet> split_pairs(const data::SegmentationSet& set, double fraction,
                                                                   std::uint64_t seed) {
  const auto count = static_cast<std::int64_t>(set.items.size());
  const auto held_out = static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(count)));
  KILN_CHECK(held_out > 0 && held_out < count, "train config: val_fraction ", fraction, " of ", count,
             " image/mask pairs leaves an empty part (give --val-data DIR)");
  Generator generator(seed);
  std::vector<std::int64_t> order = data::permutation(count, generator);
  order.resize(static_cast<std::size_t>(held_out));
  std::vector<bool> in_validation(static_cast<std::size_t>(count), false);
  for (const std::int64_t index : order) in_validation[static_cast<std::size_t>(index)] = true;
  data::SegmentationSet train, validation;
  train.classes = validation.classes = set.classes;
  for (std::size_t i = 0; i < set.items.size(); ++i) {
    (in_validation[i] ? validation : train).items.push_back(set.items[i]);
  }
  return {std::move(train), std::move(validation)};
}

data::ReaderOptions reader_options(const ReaderSettings& reader) {
  data::ReaderOptions options;
  options.threads = reader.threads;
  options.pin_memory = reader.pin_memory;
  return options;
}

}  // namespace

bool is_segmentation_folder(const std::string& folder) {
  return fs::is_directory(fs::path(folder) / "images") && fs::is_directory(fs::path(folder) / "masks");
}

bool is_fashion_mnist_folder(const std::string& folder) {
  const fs::path images = fs::path(folder) / "train-images-idx3-ubyte";
  return fs::exists(images) || fs::exists(images.string() + ".gz");
}

TrainingData in_memory_data(const data::LabelledImages& set, const TrainConfig& config) {
  Generator split_generator(stream_seed(config.seed, RunStream::validation_split));
  data::TrainValidationSplit split =
      data::split_validation(data::take_first(set, config.limit_train), config.val_fraction, split_generator);
  TrainingData data;
  data.input = data::channel_statistics(split.train.images);
  data::normalize(split.train.images, data.input);
  data::normalize(split.validation.images, data.input);
  data.train = std::make_unique<data::InMemorySource>(std::move(split.train));
  data.validation = std::make_unique<data::InMemorySource>(std::move(split.validation));
  return data;
}

TrainingData image_file_data(const TrainConfig& config, const ReaderSettings& reader) {
  KILN_CHECK(config.limit_train == 0,
             "train config: limit_train applies to Fashion-MNIST only, not to the image folder '", config.data, "'");
  const models::InputFormat input = models::model_input(config.model, config.model_options);
  KILN_CHECK(input.trains_on_image_files, "train config: data ", config.data, ": model '", config.model,
             "' does not train on image folders (give the Fashion-MNIST folder)");

  data::ImageSet train_set, validation_set;
  if (is_tiny_imagenet_folder(config.data)) {
    data::TinyImageNet tiny = data::load_tiny_imagenet(config.data);
    train_set = std::move(tiny.train);
    validation_set = std::move(tiny.validation);
  } else {
    train_set = data::list_image_folder(config.data);
  }
  if (!config.val_data.empty()) {
    validation_set = data::list_image_folder(config.val_data, train_set.classes);
  } else if (validation_set.items.empty()) {
    data::ImageSplit split =
        data::split_image_set(train_set, config.val_fraction, stream_seed(config.seed, RunStream::validation_split));
    train_set = std::move(split.train);
    validation_set = std::move(split.validation);
  }
  TrainingData data;
  data.not_images = train_set.skipped;
  data.not_images.insert(data.not_images.end(), validation_set.skipped.begin(), validation_set.skipped.end());

  Preprocess preprocess;
  preprocess.image_size = input.image_size;
  preprocess.square_crop = config.square_crop;
  preprocess.normalize =
      config.normalize.empty() ? input.training_normalization : config.normalize;
  data::ImageTransform transform;
  transform.height = transform.width = preprocess.image_size;
  transform.square_crop = config.square_crop;
  transform.random_square_offset = config.square_crop;
  transform.horizontal_flip = config.augment_flip;
  transform.crop_padding = config.augment_crop_padding;
  transform.seed = stream_seed(config.seed, RunStream::augmentation);
  if (preprocess.normalize == "computed") {
    const data::ImageDataset unnormalized(train_set, transform);
    std::vector<data::SkippedFile> unreadable;  // reported when the training epochs meet them
    transform.normalization = data::estimate_normalization(unnormalized, normalization_sample, unreadable);
  } else {
    try {
      transform.normalization = data::normalization_preset(preprocess.normalize);
    } catch (const Error& error) {
      fail("train config: normalize: ", error.what(), " (or computed)");
    }
  }
  data.input = transform.normalization;
  data.preprocess = to_json(preprocess);

  data.train = std::make_unique<data::ImageFileSource>(
      std::make_shared<const data::ImageDataset>(std::move(train_set), transform), reader_options(reader));
  data.validation = std::make_unique<data::ImageFileSource>(
      std::make_shared<const data::ImageDataset>(std::move(validation_set), transform), reader_options(reader));
  return data;
}

TrainingData segmentation_file_data(const TrainConfig& config, const ReaderSettings& reader) {
  const models::ModelFamily& family = models::model_family(config.model);
  KILN_CHECK(family.task == models::Task::segmentation, "train config: data ", config.data,
             " is a segmentation set (images/ and masks/) but model '", config.model, "' is a ",
             models::task_name(family.task), " model");
  KILN_CHECK(config.limit_train == 0, "train config: limit_train applies to Fashion-MNIST only");
  KILN_CHECK(config.normalize != "computed", "train config: normalize: computed statistics are for image "
             "classification folders; give a preset for segmentation sets");
  const models::InputFormat input = models::model_input(config.model, config.model_options);
  data::SegmentationSet train_set = data::list_segmentation_folder(config.data), validation_set;
  KILN_CHECK(!train_set.classes.empty(), "train config: data ", config.data, ": no classes.json; training needs the "
             "class list (names and mask colours) in ", (fs::path(config.data) / "classes.json").string(),
             ": [{\"name\": \"background\", \"color\": [0, 0, 0]}, ...]");
  if (!config.val_data.empty()) {
    validation_set = data::list_segmentation_folder(config.val_data);
    KILN_CHECK(validation_set.classes.empty() || colors_of(validation_set.classes) == colors_of(train_set.classes),
               "train config: val_data ", config.val_data, ": its classes.json differs from ", config.data, "'s");
    validation_set.classes = train_set.classes;
  } else {
    auto [train, validation] =
        split_pairs(train_set, config.val_fraction, stream_seed(config.seed, RunStream::validation_split));
    train.skipped = std::move(train_set.skipped);
    train_set = std::move(train);
    validation_set = std::move(validation);
  }
  TrainingData data;
  data.not_images = train_set.skipped;
  data.not_images.insert(data.not_images.end(), validation_set.skipped.begin(), validation_set.skipped.end());
  data.class_colors = colors_of(train_set.classes);

  Preprocess preprocess;
  preprocess.image_size = input.image_size;
  preprocess.normalize = config.normalize.empty() ? input.training_normalization : config.normalize;
  data::SegmentationTransform transform;
  transform.height = transform.width = preprocess.image_size;
  try {
    transform.normalization = data::normalization_preset(preprocess.normalize);
  } catch (const Error& error) {
    fail("train config: normalize: ", error.what());
  }
  transform.ignore_label = static_cast<std::int32_t>(config.ignore_label);
  transform.min_scale = config.augment_scale_min;
  transform.max_scale = config.augment_scale_max;
  transform.horizontal_flip = config.augment_flip;
  transform.seed = stream_seed(config.seed, RunStream::augmentation);
  data.input = transform.normalization;
  data.preprocess = to_json(preprocess);
  data.train = std::make_unique<data::ImageFileSource>(
      std::make_shared<const data::SegmentationDataset>(std::move(train_set), transform), reader_options(reader));
  data.validation = std::make_unique<data::ImageFileSource>(
      std::make_shared<const data::SegmentationDataset>(std::move(validation_set), transform), reader_options(reader));
  return data;
}

TrainingData load_training_data(const TrainConfig& config, const ReaderSettings& reader) {
  if (is_segmentation_folder(config.data)) return segmentation_file_data(config, reader);
  KILN_CHECK(models::model_family(config.model).task == models::Task::classification, "train config: data ",
             config.data, ": model '", config.model, "' segments images and trains on a segmentation set (DIR/images "
             "and DIR/masks; kiln make-scenes writes one)");
  if (!fs::is_directory(config.data) || is_fashion_mnist_folder(config.data)) {
    return in_memory_data(data::load_fashion_mnist(config.data, true), config);
  }
  return image_file_data(config, reader);
}

EvaluationData evaluation_data(const CheckpointInfo& info, const std::string& folder, const ReaderSettings& reader) {
  EvaluationData evaluation;
  if (is_segmentation_folder(folder)) {
    data::SegmentationSet set = data::list_segmentation_folder(folder);
    std::vector<std::string> names;
    for (const data::SegmentationClass& entry : set.classes) names.push_back(entry.name);
    const auto listed = [](const std::vector<std::string>& classes) {
      std::string text;
      for (const std::string& name : classes) text += (text.empty() ? "" : ", ") + name;
      return text;
    };
    if (set.classes.empty()) {  // index masks without names: the checkpoint names them
      KILN_CHECK(info.class_colors.size() == info.classes.size(), "data ", folder, ": no classes.json, and the "
                 "checkpoint records no class colours to read its masks with");
      set.classes = data::class_list(info.classes, info.class_colors);
    } else {
      KILN_CHECK(names == info.classes, "data ", folder, ": its classes.json names the classes ", listed(names),
                 ", but the checkpoint was trained on ", listed(info.classes));
    }
    const data::ImageTransform image = inference_transform(info);
    data::SegmentationTransform transform;
    transform.height = image.height;
    transform.width = image.width;
    transform.normalization = info.input;
    transform.ignore_label = static_cast<std::int32_t>(train_config_from_json(info.train_config).ignore_label);
    evaluation.description = "segmentation set " + folder;
    evaluation.not_images = set.skipped;
    evaluation.source = std::make_unique<data::ImageFileSource>(
        std::make_shared<const data::SegmentationDataset>(std::move(set), transform), reader_options(reader));
    return evaluation;
  }
  if (!fs::is_directory(folder) || is_fashion_mnist_folder(folder)) {
    data::LabelledImages set = data::load_fashion_mnist(folder, false);
    KILN_CHECK(info.classes == set.classes, "data ", folder, ": the checkpoint was trained on other classes than "
               "Fashion-MNIST's");
    evaluation.raw_images = set.images;
    const Tensor labels = set.labels.cpu();
    evaluation.labels.assign(labels.data<std::int32_t>(), labels.data<std::int32_t>() + labels.numel());
    set.images = set.images.clone();
    data::normalize(set.images, info.input);
    evaluation.source = std::make_unique<data::InMemorySource>(std::move(set));
    evaluation.description = "the Fashion-MNIST test split";
    return evaluation;
  }
  data::ImageSet set;
  if (is_tiny_imagenet_folder(folder)) {
    set = data::load_tiny_imagenet(folder).validation;
    KILN_CHECK(set.classes == info.classes, "data ", folder, ": the checkpoint was trained on other classes than "
               "this Tiny ImageNet's");
    evaluation.description = "Tiny ImageNet val/ of " + folder;
  } else {
    set = data::list_image_folder(folder, info.classes);
    evaluation.description = "image folder " + folder;
  }
  evaluation.not_images = set.skipped;
  evaluation.source = std::make_unique<data::ImageFileSource>(
      std::make_shared<const data::ImageDataset>(std::move(set), inference_transform(info)), reader_options(reader));
  return evaluation;
}

}  // namespace kiln::train
