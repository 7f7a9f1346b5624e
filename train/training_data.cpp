#include "kiln/train/training_data.h"

#include <filesystem>

#include "kiln/data/image_dataset.h"
#include "kiln/data/tiny_imagenet.h"
#include "kiln/models/registry.h"
#include "kiln/train/preprocess.h"

namespace kiln::train {

namespace fs = std::filesystem;

bool is_fashion_mnist_folder(const std::string& folder) {
  const fs::path images = fs::path(folder) / "train-images-idx3-ubyte";
  return fs::exists(images) || fs::exists(images.string() + ".gz");
}

std::string default_normalization(const std::string& model, const models::ModelOptions& options) {
  if (model == "roomnet") return "[-1,1]";
  const auto layout = options.find("layout");
  if (model == "vgg" && layout != options.end() && layout->second == "torchvision") return "imagenet";
  return "computed";
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
  KILN_CHECK(config.limit_train == 0, "--limit-train applies to Fashion-MNIST only, not to the image folder '",
             config.data, "'");
  const std::vector<models::ModelOptionSpec>& specs = models::model_option_specs(config.model);
  KILN_CHECK(models::with_defaults(specs, {}).contains("image_size"), "--data ", config.data, ": model '",
             config.model, "' does not train on image folders (it takes no image_size; give the Fashion-MNIST folder)");

  data::ImageSet train_set, validation_set;
  if (fs::exists(fs::path(config.data) / "wnids.txt")) {
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
  preprocess.image_size =
      models::OptionReader(config.model, specs, config.model_options).integer("image_size", 1, 1 << 14);
  preprocess.square_crop = config.square_crop;
  preprocess.normalize =
      config.normalize.empty() ? default_normalization(config.model, config.model_options) : config.normalize;
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
      fail("--normalize: ", error.what(), " (or computed)");
    }
  }
  data.input = transform.normalization;
  data.preprocess = to_json(preprocess);

  data::ReaderOptions reader_options;
  reader_options.threads = reader.threads;
  reader_options.pin_memory = reader.pin_memory;
  data.train = std::make_unique<data::ImageFileSource>(
      std::make_shared<const data::ImageDataset>(std::move(train_set), transform), reader_options);
  data.validation = std::make_unique<data::ImageFileSource>(
      std::make_shared<const data::ImageDataset>(std::move(validation_set), transform), reader_options);
  return data;
}

TrainingData load_training_data(const TrainConfig& config, const ReaderSettings& reader) {
  if (!fs::is_directory(config.data) || is_fashion_mnist_folder(config.data)) {
    return in_memory_data(data::load_fashion_mnist(config.data, true), config);
  }
  return image_file_data(config, reader);
}

}  // namespace kiln::train
