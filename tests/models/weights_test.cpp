// Loading state dicts by name: a round trip, and the errors that name the offending tensor.
#include <catch2/catch.hpp>
#include <filesystem>

#include "kiln/kiln.h"
#include "kiln/models/vgg.h"
#include "kiln/models/weights.h"

using namespace kiln;
using namespace kiln::models;

namespace {

VggOptions tiny_vgg() {
  VggOptions options;
  options.depth = 11;
  options.batch_norm = true;
  options.channels = 2;
  options.classifier_width = 4;
  options.classes = 3;
  options.pool_grid = 1;
  return options;
}

SafetensorsFile state_of(const nn::Module& model) {
  SafetensorsFile file;
  for (const nn::NamedParameter& parameter : model.named_parameters()) {
    file.tensors.emplace_back(parameter.name, parameter.tensor.clone());
  }
  for (const nn::NamedBuffer& buffer : model.named_buffers()) {
    file.tensors.emplace_back(buffer.name, buffer.tensor.clone());
  }
  return file;
}

void replace(SafetensorsFile& file, const std::string& name, const Tensor& tensor) {
  for (auto& [key, value] : file.tensors) {
    if (key == name) value = tensor;
  }
}

}  // namespace

TEST_CASE("weights: a saved state dict loads into a fresh model", "[models]") {
  Generator generator(7);
  Vgg source(tiny_vgg(), generator);
  source.named_buffers()[0].tensor.fill(0.25);  // a running mean, so that buffers are seen to load too
  const std::string path = (std::filesystem::temp_directory_path() / "kiln_weights_test.safetensors").string();
  std::vector<std::pair<std::string, Tensor>> tensors = state_of(source).tensors;
  tensors.emplace_back("features.1.num_batches_tracked", Tensor::from_vector(std::vector<std::int32_t>{5}, {1}));
  save_safetensors(path, tensors);

  Vgg target(tiny_vgg(), generator);
  load_weights(target, path);
  std::filesystem::remove(path);
  const auto expected = state_of(source).tensors, loaded = state_of(target).tensors;
  REQUIRE(loaded.size() == expected.size());
  for (std::size_t i = 0; i < loaded.size(); ++i) {
    INFO(loaded[i].first);
    CHECK(loaded[i].second.to_vector() == expected[i].second.to_vector());
  }
}

TEST_CASE("weights: missing, mis-shaped and unknown tensors are errors naming them", "[models]") {
  Generator generator(8);
  Vgg model(tiny_vgg(), generator);
  const std::vector<float> before = model.named_parameters()[0].tensor.to_vector();

  SafetensorsFile missing = state_of(model);
  missing.tensors.erase(missing.tensors.begin() + 3);
  CHECK_THROWS_WITH(load_state_dict(model, missing, "w.safetensors"),
                    Catch::Contains("missing tensor 'features.1.bias'") && Catch::Contains("w.safetensors"));

  SafetensorsFile misshaped = state_of(model);
  misshaped.tensors[0].second = Tensor::zeros({1, 2, 3});  // the first conv weight
  replace(misshaped, "classifier.6.weight", Tensor::zeros({3, 5}));
  CHECK_THROWS_WITH(
      load_state_dict(model, misshaped, "w.safetensors"),
      Catch::Contains("'features.0.weight' has shape [1, 2, 3]") && Catch::Contains("expects [2, 3, 3, 3]"));

  SafetensorsFile extra = state_of(model);
  extra.tensors.emplace_back("features.99.weight", Tensor::zeros({2}));
  CHECK_THROWS_WITH(load_state_dict(model, extra, "w.safetensors"), Catch::Contains("'features.99.weight'"));

  SafetensorsFile unloadable = state_of(model);
  unloadable.skipped.push_back("features.0.step");
  CHECK_THROWS_WITH(load_state_dict(model, unloadable, "w.safetensors"), Catch::Contains("'features.0.step'"));

  SafetensorsFile half = state_of(model);
  half.tensors.erase(half.tensors.begin());
  half.skipped.push_back("features.0.weight");  // as a BF16 or F16 tensor would be
  CHECK_THROWS_WITH(load_state_dict(model, half, "w.safetensors"),
                    Catch::Contains("'features.0.weight' has a dtype kiln cannot load"));

  // Nothing was copied by the failed loads.
  CHECK(model.named_parameters()[0].tensor.to_vector() == before);
}
