#include "kiln/train/training_data.h"

#include <filesystem>

#include "kiln/data/image_dataset.h"
#include "kiln/data/tiny_imagenet.h"
#include "kiln/models/registry.h"
#include "kiln/train/preprocess.h"

namespace kiln::train {

namespace fs = std::filesystem;

namespace {

bool is_tiny_imagenet_folder(const std::string& folder) { return fs::exists(fs::path(folder) / "wnids.txt"); }

data::ReaderOptions reader_options(const ReaderSettings& reader) {
  data::ReaderOptions options;
  options.threads = reader.threads;
  options.pin_memory = reader.pin_memory;
  return options;
}

}  // namespace

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

TrainingData load_training_data(const TrainConfig& config, const ReaderSettings& reader) {
  if (!fs::is_directory(config.data) || is_fashion_mnist_folder(config.data)) {
    return in_memory_data(data::load_fashion_mnist(config.data, true), config);
  }
  return image_file_data(config, reader);
}

EvaluationData evaluation_data(const CheckpointInfo& info, const std::string& folder, const ReaderSettings& reader) {
  EvaluationData evaluation;
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
