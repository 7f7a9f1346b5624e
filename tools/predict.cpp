// kiln predict: the top classes of each image in a file or folder, from a checkpoint or from weights trained
// elsewhere (a torchvision state dict).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <numeric>
#include <thread>

#include <nlohmann/json.hpp>

#include "kiln/autograd.h"
#include "kiln/data/async_reader.h"
#include "kiln/data/idx.h"
#include "kiln/data/image_dataset.h"
#include "kiln/models/registry.h"
#include "kiln/models/weights.h"
#include "kiln/train/evaluation.h"
#include "tools/commands.h"
#include "tools/device_flags.h"
#include "tools/image_inputs.h"
#include "tools/input_format.h"
#include "tools/model_flags.h"

namespace kiln::tools {

namespace {

struct Classifier {
  std::shared_ptr<nn::Module> model;
  std::vector<std::string> classes;
  InputFormat input;
};

Classifier from_checkpoint(const std::string& path) {
  train::LoadedModel loaded = train::load_model(path);
  Classifier classifier{loaded.model, loaded.info.classes, {}};
  try {
    classifier.input = input_format(loaded.info);
  } catch (const Error& error) {
    fail("checkpoint '", path, "': ", error.what());
  }
  return classifier;
}

std::vector<std::string> read_class_names(const std::string& path) {
  std::ifstream file(path);
  KILN_CHECK(file, "--classes-file ", path, ": cannot open it");
  std::vector<std::string> names;
  for (std::string line; std::getline(file, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  KILN_CHECK(!names.empty(), "--classes-file ", path, ": no class names in it (expected one per line)");
  return names;
}

Classifier from_weights(const cli::Arguments& arguments) {
  const std::string name = arguments.text("--model");
  const models::ModelOptions options = model_options_from(arguments);
  Generator unused_initialisation(0);  // every weight is overwritten by the file's
  Classifier classifier;
  classifier.model = models::make_model(name, options, unused_initialisation);
  models::load_weights(*classifier.model, arguments.text("--weights"));
  const models::InputFormat input = models::model_input(name, options);
  data::Normalization normalization = data::normalization_preset(input.weights_normalization);
  if (arguments.has("--normalize")) {
    try {
      normalization = data::normalization_preset(arguments.text("--normalize"));
    } catch (const Error& error) {
      throw cli::UsageError(std::string("--normalize: ") + error.what());
    }
  }
  if (input.channels == 1) {
    // A gray model takes the preset's one value; imagenet's differ per colour.
    const bool uniform = std::adjacent_find(normalization.mean.begin(), normalization.mean.end(),
                                            std::not_equal_to<>()) == normalization.mean.end();
    if (!uniform) throw cli::UsageError("--normalize: " + name + " reads one gray channel; use [0,1] or [-1,1]");
    normalization = {{normalization.mean[0]}, {normalization.std[0]}};
  }
  classifier.input = input_format(name, options, normalization);
  classifier.classes = models::default_class_names(name, options);
  if (arguments.has("--classes-file")) {
    const std::string path = arguments.text("--classes-file");
    const std::vector<std::string> names = read_class_names(path);
    KILN_CHECK(names.size() == classifier.classes.size(), "--classes-file ", path, ": ", names.size(),
               " names for the model's ", classifier.classes.size(), " classes");
    classifier.classes = names;
  }
  return classifier;
}

// Exactly one source of the model: a checkpoint, which records its options, or a model with weights.
void check_model_source(const cli::Arguments& arguments) {
  const bool checkpoint = arguments.has("--checkpoint");
  if (checkpoint && (arguments.has("--weights") || arguments.has("--model"))) {
    throw cli::UsageError("--checkpoint excludes --model and --weights (the checkpoint names its model)");
  }
  if (!checkpoint && !(arguments.has("--model") && arguments.has("--weights"))) {
    throw cli::UsageError("give --checkpoint FILE, or --model NAME with --weights FILE");
  }
  if (!checkpoint) return;
  std::vector<std::string> model_only = {"--normalize", "--classes-file"};
  for (const cli::Option& option : model_flags()) model_only.push_back(option.name);
  for (const std::string& flag : model_only) {
    if (arguments.has(flag)) throw cli::UsageError(flag + " goes with --model; a checkpoint records its own");
  }
}

struct Result {
  std::string path;
  std::vector<double> probabilities;
};

// Softmax of each row of logits [N, C].
std::vector<std::vector<double>> softmax_rows(const Tensor& logits) {
  const Tensor scores = logits.cpu();
  const std::int64_t rows = scores.size(0), classes = scores.size(1);
  std::vector<std::vector<double>> probabilities;
  for (std::int64_t r = 0; r < rows; ++r) {
    probabilities.push_back(train::softmax_row(scores.data<float>() + r * classes, classes));
  }
  return probabilities;
}

// Class indices by decreasing probability, the lower index first on ties.
std::vector<std::size_t> ranking(const std::vector<double>& probabilities) {
  std::vector<std::size_t> order(probabilities.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return probabilities[a] > probabilities[b]; });
  return order;
}

void print_row(const Result& result, const std::vector<std::string>& classes, std::size_t top_k,
               std::size_t path_width) {
  std::string line = result.path + std::string(path_width - result.path.size(), ' ');
  const std::vector<std::size_t> order = ranking(result.probabilities);
  for (std::size_t k = 0; k < std::min(top_k, order.size()); ++k) {
    char probability[32];
    std::snprintf(probability, sizeof probability, "%.4f", result.probabilities[order[k]]);
    line += "  " + classes[order[k]] + " " + probability;
  }
  std::cout << line << "\n";
}

std::string to_json(const std::vector<Result>& results, const std::vector<std::string>& classes) {
  nlohmann::json list = nlohmann::json::array();
  for (const Result& result : results) {
    list.push_back({{"path", result.path},
                    {"class", classes[ranking(result.probabilities).front()]},
                    {"probabilities", result.probabilities}});
  }
  return list.dump();
}

int run_predict(const cli::Arguments& arguments) {
  check_model_source(arguments);
  const std::string input = arguments.text("--input");
  const auto top_k = static_cast<std::size_t>(arguments.integer("--top-k", 1, 1 << 20));
  const std::int64_t batch_size = arguments.integer("--batch-size", 1, 1 << 20);
  const bool json = arguments.flag("--json");
  const Device device = device_from_flags(arguments);

  Classifier classifier = arguments.has("--checkpoint") ? from_checkpoint(arguments.text("--checkpoint"))
                                                        : from_weights(arguments);
  classifier.model->to(device);
  classifier.model->eval();

  // Called on the decoder threads too: one write per line.
  const auto report_skipped = [](const data::SkippedFile& file) {
    std::cerr << ("kiln: skipped " + file.path + ": " + file.reason + "\n");
  };
  std::vector<data::SkippedFile> not_images;
  data::ImageSet set;
  for (const std::string& path : list_inputs(input, not_images)) {
    // Each item's label is its index, so that a batch's rows name their files even after skips.
    set.items.push_back({path, static_cast<std::int32_t>(set.items.size())});
  }
  set.classes.resize(set.items.size());
  std::for_each(not_images.begin(), not_images.end(), report_skipped);

  std::size_t path_width = 0;
  for (const data::ImageItem& item : set.items) path_width = std::max(path_width, item.path.size());
  data::ReaderOptions options;
  options.threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
  options.pin_memory = device.is_cuda();
  options.on_skipped = report_skipped;
  const auto dataset = std::make_shared<const data::ImageDataset>(std::move(set), classifier.input.transform);
  data::AsyncImageReader reader(dataset, options);
  reader.start_epoch({data::sequential_order(dataset->size()), batch_size, std::nullopt});

  std::vector<Result> results;
  const NoGradGuard no_grad;
  while (const std::optional<data::Batch> batch = reader.next()) {
    const Tensor logits = classifier.model->forward(to_model_channels(batch->images, classifier.input).to(device));
    KILN_CHECK(logits.dim() == 2 && logits.size(1) == static_cast<std::int64_t>(classifier.classes.size()),
               "the model gives ", describe(logits), " for ", classifier.classes.size(), " class names");
    const std::vector<std::vector<double>> probabilities = softmax_rows(logits);
    const Tensor indices = batch->labels.cpu();
    for (std::size_t row = 0; row < probabilities.size(); ++row) {
      const std::int32_t index = indices.data<std::int32_t>()[row];
      Result result{dataset->set().items[static_cast<std::size_t>(index)].path, probabilities[row]};
      if (!json) print_row(result, classifier.classes, top_k, path_width);
      results.push_back(std::move(result));
    }
  }
  const std::size_t skipped_count = not_images.size() + reader.skipped().size();
  if (skipped_count > 0) std::cerr << "kiln: " << skipped_count << " file(s) skipped\n";
  KILN_CHECK(!results.empty(), "--input ", input, ": no image could be read");
  if (json) std::cout << to_json(results, classifier.classes) << "\n";
  return 0;
}

}  // namespace

cli::Command predict_command() {
  std::vector<cli::Option> options = {
      {"--checkpoint", {}, "FILE", "a checkpoint written by kiln train", ""},
      {"--model", {}, "NAME", "or, with --weights, " + model_flag_help(), ""},
      {"--weights", {}, "FILE", "safetensors state dict for --model (torchvision's with --layout torchvision)", ""},
      {"--normalize", {}, "PRESET",
       "with --model: [0,1], [-1,1] or imagenet (default: what the model's published weights expect; see kiln info)",
       ""},
      {"--classes-file", {}, "FILE",
       "with --model: class names, one per line (default: the model's own names, else numbers; see kiln info)", ""},
      {"--input", {}, "FILE|DIR", "an image, or a folder of images (searched recursively)", ""},
      {"--top-k", {}, "K", "classes shown per image", "3"},
      {"--json", {}, "", "print a JSON list of {path, class, probabilities} instead of the table", ""},
      {"--batch-size", {"-b"}, "N", "images per forward pass", "32"},
  };
  for (cli::Option& flag : device_flags("where to run the model")) options.push_back(std::move(flag));
  for (cli::Option& flag : model_flags()) options.push_back(std::move(flag));
  return cli::Command("predict", "classify images with a checkpoint or with weights trained elsewhere",
                      std::move(options), run_predict);
}

}  // namespace kiln::tools
