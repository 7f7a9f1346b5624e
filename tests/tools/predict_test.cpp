// kiln predict end to end: a checkpoint or weights, a folder of PNGs, the table, the JSON and the errors.
#include <catch2/catch.hpp>

#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "kiln/data/image.h"
#include "kiln/data/image_transform.h"
#include "kiln/kiln.h"
#include "kiln/models/registry.h"
#include "kiln/train/checkpoint.h"
#include "tests/data/image_files.h"
#include "tests/tools/run_kiln.h"
#include "tools/commands.h"

using namespace kiln;

namespace {

test::Run run_predict(std::vector<std::string> words) {
  words.insert(words.begin(), "predict");
  return test::run_kiln({tools::predict_command()}, words);
}

const data::Normalization fmnist_input{{0.3}, {0.4}};

// An fmnist-small checkpoint with random weights in `folder`.
std::shared_ptr<nn::Module> save_fmnist_checkpoint(const std::string& path) {
  Generator generator(11);
  std::shared_ptr<nn::Module> model = models::make_model("fmnist-small", generator);
  train::CheckpointInfo info;
  info.model = "fmnist-small";
  info.classes = data::fashion_mnist_classes();
  info.input = fmnist_input;
  train::save_checkpoint(path, *model, info);
  return model;
}

// Softmax of the model's logits on one preprocessed image [1, C, H, W], computed here independently of predict.
std::vector<double> direct_probabilities(nn::Module& model, const std::vector<float>& input, const Shape& shape) {
  model.eval();
  const NoGradGuard no_grad;
  const std::vector<float> logits = model.forward(Tensor::from_vector(input, shape)).to_vector();
  std::vector<double> probabilities;
  for (const float logit : logits) probabilities.push_back(std::exp(static_cast<double>(logit)));
  const double sum = std::accumulate(probabilities.begin(), probabilities.end(), 0.0);
  for (double& p : probabilities) p /= sum;
  return probabilities;
}

// What the checkpoint's model reads from a 28x28 image: luminance (Rec. 601), normalised by the checkpoint.
std::vector<float> fmnist_input_of(const test::Pixels& pixels) {
  std::vector<float> input;
  for (int i = 0; i < pixels.width * pixels.height; ++i) {
    const auto channel = [&](int c) { return pixels.bytes[static_cast<std::size_t>(i * pixels.channels + c)] / 255.0; };
    const double gray =
        pixels.channels == 1 ? channel(0) : 0.299 * channel(0) + 0.587 * channel(1) + 0.114 * channel(2);
    input.push_back(static_cast<float>((gray - fmnist_input.mean[0]) / fmnist_input.std[0]));
  }
  return input;
}

}  // namespace

TEST_CASE("predict: --json gives the checkpoint model's softmax for every image of a folder", "[predict]") {
  test::TemporaryFolder folder("kiln_predict_json");
  const std::string checkpoint = (folder / "model.safetensors").string();
  const std::shared_ptr<nn::Module> model = save_fmnist_checkpoint(checkpoint);
  // Sorted by path, at any depth: gray and RGB images.
  const std::vector<std::pair<std::string, test::Pixels>> images = {
      {"images/a.png", test::pattern(28, 28, 1, 1)},
      {"images/b/c.png", test::pattern(28, 28, 3, 2)},
      {"images/d.png", test::pattern(28, 28, 1, 3)},
  };
  for (const auto& [name, pixels] : images) test::write_png(folder / name, pixels);

  const test::Run run = run_predict({"--checkpoint", checkpoint, "--input", (folder / "images").string(), "--json",
                               "--device", "cpu", "--batch-size", "2"});
  INFO(run.errors);
  REQUIRE(run.exit_code == 0);
  const nlohmann::json results = nlohmann::json::parse(run.output);
  REQUIRE(results.size() == images.size());
  for (std::size_t i = 0; i < images.size(); ++i) {
    const nlohmann::json& result = results[i];
    CHECK(result.at("path") == (folder / images[i].first).string());
    const auto probabilities = result.at("probabilities").get<std::vector<double>>();
    REQUIRE(probabilities.size() == 10);
    CHECK(std::accumulate(probabilities.begin(), probabilities.end(), 0.0) == Approx(1.0).margin(1e-9));
    const std::vector<double> expected = direct_probabilities(*model, fmnist_input_of(images[i].second), {1, 1, 28, 28});
    for (std::size_t c = 0; c < expected.size(); ++c) CHECK(probabilities[c] == Approx(expected[c]).margin(1e-5));
    const auto best = std::max_element(probabilities.begin(), probabilities.end()) - probabilities.begin();
    CHECK(result.at("class") == data::fashion_mnist_classes()[static_cast<std::size_t>(best)]);
  }
}

TEST_CASE("predict: the table shows the top-k classes by decreasing probability", "[predict]") {
  test::TemporaryFolder folder("kiln_predict_table");
  const std::string checkpoint = (folder / "model.safetensors").string();
  save_fmnist_checkpoint(checkpoint);
  const std::string image = (folder / "shirt.png").string();
  test::write_png(image, test::pattern(28, 28, 1, 4));
  const test::Run as_json = run_predict({"--checkpoint", checkpoint, "--input", image, "--json", "--device", "cpu"});
  REQUIRE(as_json.exit_code == 0);
  const auto probabilities = nlohmann::json::parse(as_json.output)[0].at("probabilities").get<std::vector<double>>();

  using Case = std::pair<std::string, std::size_t>;  // --top-k, classes shown (capped at the 10 classes)
  const auto [top_k, shown] = GENERATE(Case{"4", 4}, Case{"50", 10});
  const test::Run run =
      run_predict({"--checkpoint", checkpoint, "--input", image, "--top-k", top_k, "--device", "cpu"});
  INFO(run.output << run.errors);
  REQUIRE(run.exit_code == 0);
  // "PATH  CLASS P  CLASS P ...": fields are two spaces apart, class names may hold one ("Ankle boot").
  std::vector<std::string> fields;
  for (std::string rest = run.output.substr(0, run.output.find('\n')); !rest.empty();) {
    const std::size_t gap = rest.find("  ");
    fields.push_back(rest.substr(0, gap));
    rest = gap == std::string::npos ? "" : rest.substr(gap + 2);
  }
  REQUIRE(fields.size() == shown + 1);
  CHECK(fields[0] == image);
  std::vector<double> sorted = probabilities;
  std::sort(sorted.rbegin(), sorted.rend());
  const std::vector<std::string> classes = data::fashion_mnist_classes();
  for (std::size_t k = 0; k < shown; ++k) {
    const std::size_t space = fields[k + 1].rfind(' ');
    CHECK(std::stod(fields[k + 1].substr(space + 1)) == Approx(sorted[k]).margin(5e-5));  // printed with 4 decimals
    const auto index = std::find(classes.begin(), classes.end(), fields[k + 1].substr(0, space)) - classes.begin();
    REQUIRE(index < 10);
    CHECK(probabilities[static_cast<std::size_t>(index)] == Approx(sorted[k]));
  }
}

TEST_CASE("predict: corrupt and non-image files are reported and skipped", "[predict]") {
  test::TemporaryFolder folder("kiln_predict_skip");
  const std::string checkpoint = (folder / "model.safetensors").string();
  save_fmnist_checkpoint(checkpoint);
  test::write_png(folder / "images/good.png", test::pattern(28, 28, 1, 5));
  test::write_text(folder / "images/broken.png", "not a PNG at all");
  test::write_text(folder / "images/notes.txt", "hello");
  const test::Run run = run_predict({"--checkpoint", checkpoint, "--input", (folder / "images").string(), "--json",
                               "--device", "cpu"});
  INFO(run.errors);
  REQUIRE(run.exit_code == 0);
  const nlohmann::json results = nlohmann::json::parse(run.output);
  REQUIRE(results.size() == 1);
  CHECK(results[0].at("path") == (folder / "images/good.png").string());
  CHECK_THAT(run.errors, Catch::Contains("skipped " + (folder / "images/broken.png").string()) &&
                             Catch::Contains("skipped " + (folder / "images/notes.txt").string()) &&
                             Catch::Contains("2 file(s) skipped"));

  const test::Run only_broken =
      run_predict({"--checkpoint", checkpoint, "--input", (folder / "images/broken.png").string(), "--device", "cpu"});
  CHECK(only_broken.exit_code == 1);
  CHECK_THAT(only_broken.errors, Catch::Contains("no image could be read"));
}

TEST_CASE("predict: wrong command lines are errors naming the flag", "[predict]") {
  test::TemporaryFolder folder("kiln_predict_errors");
  const std::string checkpoint = (folder / "model.safetensors").string();
  save_fmnist_checkpoint(checkpoint);
  const std::string missing = (folder / "nothing_here").string();
  using Case = std::tuple<std::vector<std::string>, int, std::string>;
  const auto [words, exit_code, message] = GENERATE_COPY(
      Case{{"--checkpoint", checkpoint}, 2, "missing required flag --input"},
      Case{{"--checkpoint", checkpoint, "--weights", "w.safetensors", "--input", "x.png"}, 2, "--checkpoint excludes"},
      Case{{"--input", "x.png"}, 2, "give --checkpoint FILE, or --model NAME with --weights FILE"},
      Case{{"--checkpoint", checkpoint, "--depth", "11", "--input", "x.png"}, 2, "--depth goes with --model"},
      Case{{"--checkpoint", checkpoint, "--input", missing}, 1, "--input " + missing + ": no such file or folder"},
      Case{{"--model", "fmnist-small", "--weights", checkpoint, "--normalize", "imagenet", "--input", "x.png"}, 2,
           "--normalize"});
  const test::Run run = run_predict(words);
  INFO(run.output << run.errors);
  CHECK(run.exit_code == exit_code);
  CHECK_THAT(run.errors, Catch::Contains(message));
}

TEST_CASE("predict: --model with --weights, class names from a file and the model's preset", "[predict]") {
  test::TemporaryFolder folder("kiln_predict_weights");
  const std::vector<std::string> model_flags = {"--model",           "vgg", "-d",      "11", "--channels", "2",
                                                "--classifier-width", "4",   "--classes", "3", "--pool-grid", "1",
                                                "-i",                "32"};
  Generator generator(5);
  const std::shared_ptr<nn::Module> model = models::make_model(
      "vgg",
      {{"depth", "11"}, {"channels", "2"}, {"classifier_width", "4"}, {"classes", "3"}, {"pool_grid", "1"},
       {"image_size", "32"}},
      generator);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const nn::NamedParameter& parameter : model->named_parameters())
    tensors.emplace_back(parameter.name, parameter.tensor);
  save_safetensors((folder / "vgg.safetensors").string(), tensors);
  test::write_text(folder / "classes.txt", "cat\ndog\r\nbird\n");
  const test::Pixels pixels = test::pattern(32, 32, 3, 6);
  test::write_png(folder / "photo.png", pixels);

  std::vector<std::string> words = model_flags;
  words.insert(words.end(), {"--weights", (folder / "vgg.safetensors").string(), "--classes-file",
                             (folder / "classes.txt").string(), "--input", (folder / "photo.png").string(), "--json",
                             "--device", "cpu"});
  const test::Run run = run_predict(words);
  INFO(run.errors);
  REQUIRE(run.exit_code == 0);
  const nlohmann::json result = nlohmann::json::parse(run.output).at(0);
  // The seed VGG's [-1, 1] preset, planes in R, G, B order.
  std::vector<float> input(3 * 32 * 32);
  for (std::size_t i = 0; i < 32 * 32; ++i) {
    for (std::size_t c = 0; c < 3; ++c) input[c * 32 * 32 + i] = pixels.bytes[i * 3 + c] / 255.0f * 2 - 1;
  }
  const std::vector<double> expected = direct_probabilities(*model, input, {1, 3, 32, 32});
  const auto probabilities = result.at("probabilities").get<std::vector<double>>();
  REQUIRE(probabilities.size() == 3);
  for (std::size_t c = 0; c < 3; ++c) CHECK(probabilities[c] == Approx(expected[c]).margin(1e-5));
  const std::vector<std::string> names = {"cat", "dog", "bird"};
  const auto best = std::max_element(expected.begin(), expected.end()) - expected.begin();
  CHECK(result.at("class") == names[static_cast<std::size_t>(best)]);
}

TEST_CASE("predict: --layout torchvision prepares images as torchvision evaluates (resize, centre crop)", "[predict]") {
  test::TemporaryFolder folder("kiln_predict_torchvision");
  const models::ModelOptions options = {{"depth", "11"},  {"layout", "torchvision"}, {"channels", "2"},
                                        {"classifier_width", "4"}, {"classes", "3"}, {"image_size", "32"}};
  Generator generator(8);
  const std::shared_ptr<nn::Module> model = models::make_model("vgg", options, generator);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const nn::NamedParameter& parameter : model->named_parameters()) {
    // Weights larger than the initialisation's, so that the probabilities depend visibly on the input.
    Tensor weights = parameter.tensor;
    weights.copy_from(Tensor::uniform(weights.shape(), -0.25, 0.25, generator));
    tensors.emplace_back(parameter.name, weights);
  }
  save_safetensors((folder / "vgg.safetensors").string(), tensors);
  const std::string photo = (folder / "photo.png").string();
  // 40 rows, 48 columns, with white bands at the sides that the centre crop leaves out.
  test::Pixels pixels = test::pattern(48, 40, 3, 2);
  for (int row = 0; row < 40; ++row) {
    for (int column = 0; column < 48; ++column) {
      if (column >= 6 && column < 42) continue;
      for (int c = 0; c < 3; ++c) pixels.bytes[static_cast<std::size_t>((row * 48 + column) * 3 + c)] = 255;
    }
  }
  test::write_png(photo, pixels);

  const test::Run run = run_predict({"--model", "vgg", "-d", "11", "--layout", "torchvision", "--channels", "2",
                               "--classifier-width", "4", "--classes", "3", "-i", "32", "--weights",
                               (folder / "vgg.safetensors").string(), "--input", photo, "--json", "--device", "cpu"});
  INFO(run.errors);
  REQUIRE(run.exit_code == 0);
  // Shorter side to 32 * 8 / 7 = 36.6 -> 37, the longer to int(37 * 48 / 40) = 44; the centre 32x32 starts at row
  // round(2.5) = 2 and column 6; then ImageNet's mean and std.
  const auto probabilities_of = [&](const data::Image& image) {
    const data::Normalization imagenet = data::normalization_preset("imagenet");
    std::vector<float> input(image.pixels.size());
    for (std::size_t i = 0; i < input.size(); ++i) {
      const std::size_t channel = i / (32 * 32);
      input[i] = static_cast<float>((image.pixels[i] - imagenet.mean[channel]) / imagenet.std[channel]);
    }
    return direct_probabilities(*model, input, {1, 3, 32, 32});
  };
  const data::Image decoded = data::decode_image(photo);
  const std::vector<double> expected =
      probabilities_of(data::crop_image(data::resize_image(decoded, 37, 44), 2, 6, 32, 32));
  const std::vector<double> uncropped = probabilities_of(data::resize_image(decoded, 32, 32));
  const auto probabilities = nlohmann::json::parse(run.output).at(0).at("probabilities").get<std::vector<double>>();
  REQUIRE(probabilities.size() == 3);
  double crop_effect = 0;
  for (std::size_t c = 0; c < 3; ++c) {
    CHECK(probabilities[c] == Approx(expected[c]).margin(1e-5));
    crop_effect = std::max(crop_effect, std::abs(uncropped[c] - expected[c]));
  }
  INFO("probabilities " << expected[0] << " " << expected[1] << " " << expected[2] << ", uncropped " << uncropped[0]
                         << " " << uncropped[1] << " " << uncropped[2]);
  CHECK(crop_effect > 1e-4);  // ten times the tolerance: a plain resize would fail the checks above
}
