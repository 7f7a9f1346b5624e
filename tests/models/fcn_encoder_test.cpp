// --encoder-weights for the FCNs: a torchvision VGG-16 state dict (kiln's VGG in torchvision's layout, whose state dict
// is one) loads into the encoder, fc7 then equals VGG's classifier.4 output, and mismatches are errors naming them.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

#include "kiln/kiln.h"
#include "kiln/models/fcn.h"
#include "kiln/models/registry.h"
#include "kiln/models/vgg.h"

using namespace kiln;
using namespace kiln::models;

namespace {

constexpr std::int64_t width = 32;  // fc6 and fc7, narrow so that the test runs in a second or two

// VGG-16 in torchvision's layout at a narrow width, with random biases so that they are seen to load, and
// classifier.6 the identity so that its logits are classifier.4's output (eval mode: classifier.5's dropout passes).
std::shared_ptr<Vgg> torchvision_vgg16(Generator& generator) {
  VggOptions options;
  options.layout = "torchvision";
  options.channels = 8;
  options.classifier_width = options.classes = width;
  auto vgg = std::make_shared<Vgg>(options, generator);
  for (const nn::NamedParameter& parameter : vgg->named_parameters()) {
    Tensor tensor = parameter.tensor;
    if (parameter.name == "classifier.6.weight") {
      std::vector<float> identity(static_cast<std::size_t>(width * width), 0.0f);
      for (std::int64_t i = 0; i < width; ++i) identity[static_cast<std::size_t>(i * width + i)] = 1.0f;
      tensor.copy_from(Tensor::from_vector(identity, tensor.shape()));
    } else if (parameter.name == "classifier.6.bias") {
      tensor.fill(0);
    } else if (parameter.kind == nn::ParameterKind::bias) {
      tensor.copy_from(scale(Tensor::randn(tensor.shape(), generator), 0.1));
    }
  }
  return vgg;
}

std::vector<std::pair<std::string, Tensor>> state_of(const nn::Module& model) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const nn::NamedParameter& parameter : model.named_parameters()) {
    tensors.emplace_back(parameter.name, parameter.tensor);
  }
  return tensors;
}

ModelOptions fcn_options(std::int64_t channels, std::int64_t classifier_width) {
  return {{"channels", std::to_string(channels)},
          {"classifier_width", std::to_string(classifier_width)},
          {"classes", "3"},
          {"input_padding", "1"}};
}

Tensor parameter(const nn::Module& model, const std::string& name) {
  for (const nn::NamedParameter& named : model.named_parameters()) {
    if (named.name == name) return named.tensor;
  }
  FAIL("no parameter " << name);
  return {};
}

std::string temporary(const std::string& name) { return (std::filesystem::temp_directory_path() / name).string(); }

}  // namespace

TEST_CASE("fcn encoder: torchvision VGG-16 weights make fc7 equal VGG's classifier.4 output at 224 px", "[fcn]") {
  Generator generator(11);
  const std::shared_ptr<Vgg> vgg = torchvision_vgg16(generator);
  const std::string path = temporary("kiln_fcn_encoder_test.safetensors");
  save_safetensors(path, state_of(*vgg));

  Fcn fcn(FcnOptions::from(8, fcn_options(8, width)), generator);
  load_encoder_weights("fcn8s", fcn, path);
  // fcn16s and fcn32s load the same encoder: fc6 is classifier.0 reshaped.
  for (const std::string name : {"fcn16s", "fcn32s"}) {
    INFO(name);
    const std::shared_ptr<nn::Module> model = make_model(name, fcn_options(8, width), generator);
    load_encoder_weights(name, *model, path);
    CHECK(parameter(*model, "fc6.weight").shape() == Shape{width, 64, 7, 7});
    CHECK(parameter(*model, "fc6.weight").to_vector() == parameter(*vgg, "classifier.0.weight").to_vector());
  }
  std::filesystem::remove(path);

  vgg->eval();
  fcn.eval();
  NoGradGuard no_grad;
  const Tensor images = Tensor::randn({1, 3, 224, 224}, generator);
  const std::vector<float> expected = vgg->forward(images).to_vector();
  const Tensor fc7 = fcn.encode(images);
  REQUIRE(fc7.shape() == Shape{1, width, 1, 1});
  const std::vector<float> got = fc7.to_vector();
  double difference = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    difference = std::max(difference, static_cast<double>(std::abs(got[i] - expected[i])));
  }
  INFO("max |fc7 - classifier.4| = " << difference << ", largest unit "
                                     << *std::max_element(expected.begin(), expected.end()));
  CHECK(difference <= 1e-4);
  // After a ReLU: some units must be active for the comparison to mean anything.
  CHECK(std::count_if(expected.begin(), expected.end(), [](float value) { return value > 0; }) > width / 4);
}

TEST_CASE("fcn encoder: mis-shaped and missing tensors name the file and the tensor; other models refuse", "[fcn]") {
  Generator generator(12);
  const std::shared_ptr<Vgg> vgg = torchvision_vgg16(generator);
  const std::string path = temporary("kiln_fcn_encoder_errors_test.safetensors");
  std::vector<std::pair<std::string, Tensor>> state = state_of(*vgg);
  save_safetensors(path, state);

  Fcn narrower(FcnOptions::from(8, fcn_options(4, width)), generator);
  CHECK_THROWS_WITH(load_encoder_weights("fcn8s", narrower, path),
                    Catch::Contains(path) && Catch::Contains("'features.0.weight' has shape [8, 3, 3, 3]") &&
                        Catch::Contains("needs [4, 3, 3, 3]"));
  Fcn thinner(FcnOptions::from(8, fcn_options(8, 16)), generator);
  CHECK_THROWS_WITH(load_encoder_weights("fcn8s", thinner, path),
                    Catch::Contains(path) && Catch::Contains("'classifier.0.weight' has shape [32, 3136]") &&
                        Catch::Contains("fc6.weight needs [16, 3136]"));

  std::erase_if(state, [](const auto& entry) { return entry.first == "features.28.bias"; });
  save_safetensors(path, state);
  Fcn fcn(FcnOptions::from(8, fcn_options(8, width)), generator);
  const std::vector<float> before = parameter(fcn, "features.0.weight").to_vector();
  CHECK_THROWS_WITH(load_encoder_weights("fcn8s", fcn, path),
                    Catch::Contains(path) && Catch::Contains("missing tensor 'features.28.bias'"));
  CHECK(parameter(fcn, "features.0.weight").to_vector() == before);  // all or nothing
  std::filesystem::remove(path);

  for (const ModelFamily& family : model_families()) {
    INFO(family.name);
    CHECK(static_cast<bool>(family.load_encoder) == family.name.starts_with("fcn"));
  }
  CHECK_THROWS_WITH(load_encoder_weights("vgg", *vgg, path),
                    Catch::Contains("model 'vgg' has no pretrained encoder that --encoder-weights could load") &&
                        Catch::Contains("models with one: fcn8s, fcn16s, fcn32s"));
}
