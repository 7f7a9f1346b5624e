// kiln's torchvision-layout VGG against torchvision itself: the state dicts and outputs written by
// tests/golden/make_torchvision_golden.py (a narrowed vgg11 and vgg11_bn with random weights and batch-norm statistics,
// eval mode) must load by name and give the same logits within 1e-4 of their largest magnitude.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "kiln/kiln.h"
#include "kiln/models/registry.h"
#include "kiln/models/weights.h"

using namespace kiln;

namespace {

std::string golden_file(const std::string& name) {
  return std::string(KILN_SOURCE_DIR) + "/tests/golden/data/" + name + ".safetensors";
}

void check_against_torchvision(const std::string& name) {
  const SafetensorsFile io = load_safetensors(golden_file(name + "_io"));
  Generator generator(9);
  const std::shared_ptr<nn::Module> model = models::make_model("vgg", io.metadata, generator);
  const SafetensorsFile weights = load_safetensors(golden_file(name));
  models::load_state_dict(*model, weights, name);
  model->eval();
  for (const nn::NamedBuffer& buffer : model->named_buffers()) {
    INFO(buffer.name);
    CHECK(buffer.tensor.to_vector() == weights.at(buffer.name).to_vector());
  }
  const Tensor output = model->forward(io.at("input"));
  const Tensor& expected = io.at("output");
  REQUIRE(output.shape() == expected.shape());
  const std::vector<float> a = output.to_vector(), e = expected.to_vector();
  double scale = 0, worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, std::abs(double(e[i])));
    worst = std::max(worst, std::abs(double(a[i]) - e[i]));
  }
  INFO(name << ": largest difference " << worst << " at scale " << scale);
  CHECK(scale > 1);  // the random net does not collapse to zeros
  CHECK(worst <= 1e-4 * scale);
}

}  // namespace

TEST_CASE("golden: torchvision vgg11 weights load by name and match its outputs", "[models][golden]") {
  check_against_torchvision("torchvision_vgg11");
}

TEST_CASE(
    "golden: torchvision vgg11_bn weights and running statistics match "
    "in eval mode",
    "[models][golden]") {
  const SafetensorsFile weights = load_safetensors(golden_file("torchvision_vgg11_bn"));
  CHECK(weights.contains("features.1.running_var"));
  CHECK(std::find(weights.skipped.begin(), weights.skipped.end(), "features.1.num_batches_tracked") !=
        weights.skipped.end());
  check_against_torchvision("torchvision_vgg11_bn");
}
