// The segmenters: FCN-8s/16s/32s and seed 004's facade-net. Parameter counts, scores the input's size at odd sizes, the
// bilinear upsampling kernels, the table against the built model, the tutorial decoder and option errors.
#include "kiln/models/fcn.h"

#include <catch2/catch.hpp>

#include "kiln/kiln.h"
#include "kiln/models/facade_net.h"
#include "kiln/models/registry.h"

using namespace kiln;
using namespace kiln::models;

namespace {

const std::vector<std::string> fcn_names = {"fcn8s", "fcn16s", "fcn32s"};

// A narrow encoder (stages 2, 4, 8, 16, 16; fc6 and fc7 128 wide), quick on a CPU.
ModelOptions narrow(ModelOptions options = {}) {
  options.try_emplace("channels", "2");
  options.try_emplace("classes", "3");
  return options;
}

Shape output_shape(const std::string& name, const ModelOptions& options, std::int64_t height, std::int64_t width) {
  Generator generator(7);
  const std::shared_ptr<nn::Module> model = make_model(name, options, generator);
  NoGradGuard no_grad;
  return model->forward(Tensor::randn({1, 3, height, width}, generator)).shape();
}

Tensor parameter(const nn::Module& model, const std::string& name) {
  for (const nn::NamedParameter& named : model.named_parameters()) {
    if (named.name == name) return named.tensor;
  }
  FAIL("no parameter " << name);
  return {};
}

}  // namespace

TEST_CASE(
    "fcn: parameter counts of the reference nets at 21 classes and of "
    "facade-net at 5",
    "[fcn]") {
  // VGG-16 convolutions 14,714,688; fc6 102,764,544; fc7 16,781,312; score layers 102,207; upsampling 127,008.
  CHECK(describe_model("fcn8s", {{"classes", "21"}}).parameters() == 134'489'759);
  // score_fr 86,037 and score_pool4 10,773; upscore2 21 x 21 x 4 x 4 and upscore16 21 x 21 x 32 x 32.
  CHECK(describe_model("fcn16s", {}).parameters() == 134'260'544 + 86'037 + 10'773 + 7'056 + 451'584);
  // score_fr and upscore 21 x 21 x 64 x 64.
  CHECK(describe_model("fcn32s", {}).parameters() == 134'260'544 + 86'037 + 1'806'336);
  // 1,792 + 73,856 + 295,168 + 295,040 + 73,792 + 2,885.
  CHECK(describe_model("facade-net", {}).parameters() == 742'533);
  Generator generator(1);
  CHECK(make_model("facade-net", generator)->parameter_count() == 742'533);
}

TEST_CASE("fcn: every variant scores at the input's size, odd sizes included", "[fcn]") {
  for (const std::string& name : fcn_names) {
    for (const std::string decoder : {"reference", "tutorial"}) {
      INFO(name << " " << decoder);
      const ModelOptions options = narrow({{"decoder", decoder}});
      CHECK(output_shape(name, options, 97, 131) == Shape{1, 3, 97, 131});
      CHECK(output_shape(name, options, 64, 64) == Shape{1, 3, 64, 64});
    }
  }
  CHECK(output_shape("fcn8s", narrow({{"skip_scaling", "true"}}), 33, 17) == Shape{1, 3, 33, 17});
  CHECK(output_shape("fcn8s", narrow({{"channels", "4"}}), 1, 1) == Shape{1, 3, 1, 1});
  CHECK(output_shape("facade-net", {}, 97, 131) == Shape{1, 5, 97, 131});
  CHECK(output_shape("facade-net", {{"classes", "2"}}, 64, 64) == Shape{1, 2, 64, 64});
}

TEST_CASE(
    "fcn: upsampling starts as bilinear interpolation, one kernel per "
    "class on the diagonal",
    "[fcn]") {
  // Kernel 4: factor 2, centre 1.5, so each axis weighs 1 - |i - 1.5| / 2 = 0.25, 0.75, 0.75, 0.25.
  const std::vector<float> axis = {0.25f, 0.75f, 0.75f, 0.25f};
  const std::vector<float> kernel = bilinear_kernel(4);
  REQUIRE(kernel.size() == 16);
  for (std::size_t y = 0; y < 4; ++y) {
    for (std::size_t x = 0; x < 4; ++x) CHECK(kernel[y * 4 + x] == axis[y] * axis[x]);
  }
  // Odd kernel 3: factor 2, centre 1: 0.5, 1, 0.5.
  CHECK(bilinear_kernel(3) == std::vector<float>{0.25f, 0.5f, 0.25f, 0.5f, 1.0f, 0.5f, 0.25f, 0.5f, 0.25f});

  Generator generator(3);
  const std::shared_ptr<nn::Module> model = make_model("fcn8s", narrow(), generator);
  const Tensor upscore2 = parameter(*model, "upscore2.weight");
  REQUIRE(upscore2.shape() == Shape{3, 3, 4, 4});
  const std::vector<float> values = upscore2.to_vector();
  for (std::size_t in = 0; in < 3; ++in) {
    for (std::size_t out = 0; out < 3; ++out) {
      for (std::size_t i = 0; i < 16; ++i) CHECK(values[(in * 3 + out) * 16 + i] == (in == out ? kernel[i] : 0.0f));
    }
  }
  CHECK(parameter(*model, "upscore8.weight").shape() == Shape{3, 3, 16, 16});
  // The reference's score layers start at zero, and its upsampling has no bias.
  for (const float weight : parameter(*model, "score_pool4.weight").to_vector()) CHECK(weight == 0.0f);
  for (const nn::NamedParameter& named : model->named_parameters()) CHECK(named.name != "upscore2.bias");
}

TEST_CASE("fcn: the layer table follows the built model, parameters and output shape", "[fcn]") {
  for (const std::string& name : fcn_names) {
    for (const std::string decoder : {"reference", "tutorial"}) {
      for (const std::string scaling : {"false", "true"}) {
        INFO(name << " " << decoder << " skip_scaling " << scaling);
        const ModelOptions options =
            narrow({{"decoder", decoder}, {"skip_scaling", scaling}, {"image_size", "45"}, {"channels", "4"}});
        Generator generator(5);
        const std::shared_ptr<nn::Module> model = make_model(name, options, generator);
        const LayerTable table = describe_model(name, options);
        CHECK(table.parameters() == model->parameter_count());
        CHECK(table.rows.back().output == Shape{3, 45, 45});
        NoGradGuard no_grad;
        CHECK(model->forward(Tensor::zeros({1, 3, 45, 45})).shape() == Shape{1, 3, 45, 45});
      }
    }
  }
  const LayerTable table = describe_model("fcn8s", {});
  CHECK(table.input == Shape{3, 500, 500});
  CHECK(table.rows.front().operation == "conv 3x3 3->64 pad 100");
  CHECK(table.rows.back().operation == "crop at 31 to the input");
  // conv1_1's padding: more than the reference's still fits the crops; plain VGG's 1 leaves the output too small.
  const ModelOptions padded = narrow({{"input_padding", "120"}, {"image_size", "45"}});
  const LayerTable padded_table = describe_model("fcn8s", padded);
  CHECK(padded_table.rows.front().operation == "conv 3x3 3->2 pad 120");
  CHECK(padded_table.rows.back().output == Shape{3, 45, 45});
  Generator generator(2);
  const std::shared_ptr<nn::Module> padded_model = make_model("fcn8s", padded, generator);
  CHECK(padded_table.parameters() == padded_model->parameter_count());
  {
    NoGradGuard no_grad;
    CHECK(padded_model->forward(Tensor::zeros({1, 3, 45, 45})).shape() == Shape{1, 3, 45, 45});
  }
  CHECK_THROWS_WITH(describe_model("fcn8s", {{"input_padding", "1"}, {"image_size", "224"}}),
                    Catch::Contains("score crops a 224x224 window at 31 from a 88x88 map"));
  CHECK(describe_model("facade-net", {{"classes", "7"}}).parameters() ==
        make_model("facade-net", {{"classes", "7"}}, generator)->parameter_count());
}

TEST_CASE("fcn: the tutorial decoder upsamples to the skips' channels and adds them", "[fcn]") {
  Generator generator(6);
  const std::shared_ptr<nn::Module> model = make_model("fcn8s", narrow({{"decoder", "tutorial"}}), generator);
  CHECK(parameter(*model, "upscore2.weight").shape() == Shape{3, 16, 4, 4});  // classes -> pool4's 8 x 2
  CHECK(parameter(*model, "upscore_pool4.weight").shape() == Shape{16, 8, 4, 4});
  CHECK(parameter(*model, "upscore8.weight").shape() == Shape{8, 3, 16, 16});
  CHECK(parameter(*model, "upscore8.bias").shape() == Shape{3});
  for (const nn::NamedParameter& named : model->named_parameters()) CHECK(named.name.rfind("score_pool", 0) != 0);
}

TEST_CASE("fcn: families, input formats and option errors", "[fcn]") {
  for (const std::string& name : fcn_names) {
    INFO(name);
    CHECK(model_family(name).task == Task::segmentation);
    const InputFormat input = model_input(name, {});
    CHECK(input.image_size == 500);
    CHECK(input.training_normalization == "imagenet");
    CHECK(input.weights_normalization == "imagenet");
    CHECK_THROWS_WITH(describe_model(name, {{"depth", "16"}}),
                      Catch::Contains("model " + name + " has no option 'depth'"));
    CHECK_THROWS_WITH(describe_model(name, {{"decoder", "unet"}}), Catch::Contains("decoder"));
  }
  Generator generator(1);
  CHECK(make_model("fcn8s", narrow(), generator)->named_generators().front().name == "dropout");
  CHECK(model_family("facade-net").task == Task::segmentation);
  CHECK(model_input("facade-net", {}).image_size == 256);
  CHECK(model_input("facade-net", {}).training_normalization == "[-1,1]");
  CHECK(default_class_names("facade-net", {}) ==
        std::vector<std::string>{"others", "facade", "pillar", "window", "balcony"});
  CHECK(default_class_names("facade-net", {{"classes", "2"}}) == std::vector<std::string>{"0", "1"});
  CHECK_THROWS_WITH(describe_model("facade-net", {{"channels", "2"}}),
                    Catch::Contains("model facade-net has no option 'channels'"));
}
