// Every registered model family keeps its facts consistent: the layer table describes the built model, the input
// format matches the table's input, a model that drops out registers its random stream (or resume would not be
// bit-identical), and the command line's model flags are generated from the families' option specs.
#include <algorithm>
#include <catch2/catch.hpp>

#include "kiln/data/idx.h"
#include "kiln/kiln.h"
#include "kiln/models/registry.h"
#include "tools/model_flags.h"

using namespace kiln;

namespace {

// Small enough to build every family quickly; only options a family declares are passed.
models::ModelOptions small_options(const models::ModelFamily& family) {
  const models::ModelOptions wanted = {{"channels", "2"}, {"classifier_width", "4"}, {"classes", "3"}};
  models::ModelOptions options;
  for (const models::ModelOptionSpec& spec : family.options) {
    if (wanted.contains(spec.key)) options[spec.key] = wanted.at(spec.key);
  }
  return options;
}

}  // namespace

TEST_CASE("family: every family's table, input format, classes and random streams agree with its model", "[models]") {
  for (const models::ModelFamily& family : models::model_families()) {
    INFO(family.name);
    const models::ModelOptions options = small_options(family);
    Generator generator(1);
    const std::shared_ptr<nn::Module> model = family.build(options, generator);
    const models::LayerTable table = family.describe(options);
    CHECK(table.parameters() == model->parameter_count());
    const models::InputFormat input = family.input(options);
    CHECK(table.input == Shape{input.channels, input.image_size, input.image_size});
    CHECK(!family.summary.empty());
    const std::vector<std::string> names = models::default_class_names(family.name, options);
    CHECK(static_cast<std::int64_t>(names.size()) == table.rows.back().output[0]);

    bool drops_out = false;
    model->apply([&](nn::Module& module) { drops_out |= dynamic_cast<nn::Dropout*>(&module) != nullptr; });
    if (drops_out) CHECK(!model->named_generators().empty());
  }
}

TEST_CASE("family: the facts that used to be name comparisons", "[models]") {
  CHECK(models::default_class_names("fmnist-small", {}) == data::fashion_mnist_classes());
  CHECK(models::default_class_names("roomnet", {}).front() == "Backyard");
  CHECK(models::default_class_names("roomnet", {{"classes", "2"}}) == std::vector<std::string>{"0", "1"});
  CHECK(models::model_input("fmnist-bn", {}).channels == 1);
  CHECK_FALSE(models::model_input("fmnist-bn", {}).trains_on_image_files);
  CHECK(models::model_input("roomnet", {}).square_crop);
  CHECK(models::model_input("roomnet", {}).training_normalization == "[-1,1]");
  const models::InputFormat torchvision = models::model_input("vgg", {{"layout", "torchvision"}});
  CHECK(torchvision.resize_shorter == 256);
  CHECK(torchvision.training_normalization == "imagenet");
  CHECK(torchvision.weights_normalization == "imagenet");
  // Layout kiln: the seed's weights expect [-1, 1]; kiln train computes the training images' statistics.
  CHECK(models::model_input("vgg", {}).weights_normalization == "[-1,1]");
  CHECK(models::model_input("vgg", {}).training_normalization == "computed");
  CHECK(models::model_list() == "fmnist-small, fmnist-bn, roomnet, vgg, fcn8s, fcn16s, fcn32s, facade-net");
  CHECK_THROWS_WITH(models::model_family("resnet"), Catch::Contains("fmnist-small, fmnist-bn, roomnet, vgg"));
}

TEST_CASE("family: model flags come from the option specs, aliases and shared keys merged", "[models]") {
  const std::vector<cli::Option> flags = tools::model_flags();
  const auto flag = [&](const std::string& name) {
    const auto found = std::find_if(flags.begin(), flags.end(), [&](const cli::Option& o) { return o.name == name; });
    REQUIRE(found != flags.end());
    return *found;
  };
  CHECK(flag("--depth").aliases == std::vector<std::string>{"-d"});
  CHECK(flag("--conv1x1").aliases == std::vector<std::string>{"-c11"});
  CHECK(flag("--conv1x1").value_name.empty());  // a switch
  CHECK(flag("--pad-1x1").value_name.empty());
  CHECK(flag("--image-size").aliases == std::vector<std::string>{"-i"});
  CHECK_THAT(flag("--classes").help, Catch::Contains("roomnet 6, vgg 1000"));
  // Every option of every family has exactly one flag.
  std::size_t keys = 0;
  std::vector<std::string> seen;
  for (const models::ModelFamily& family : models::model_families()) {
    for (const models::ModelOptionSpec& spec : family.options) {
      if (std::find(seen.begin(), seen.end(), spec.key) == seen.end()) seen.push_back(spec.key), ++keys;
    }
  }
  CHECK(flags.size() == keys);
}
