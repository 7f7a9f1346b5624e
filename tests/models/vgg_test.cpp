// VGG: the ImageNet parameter counts, the plan against the built module, torchvision's names, the seed's padded 1x1
// quirk, option checks and gradient flow.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "kiln/kiln.h"
#include "kiln/models/registry.h"
#include "kiln/models/vgg.h"

using namespace kiln;
using namespace kiln::models;

namespace {

VggOptions small_vgg(std::int64_t depth, bool conv1x1, bool batch_norm, const std::string& layout) {
  VggOptions options;
  options.depth = depth;
  options.conv1x1 = conv1x1;
  options.batch_norm = batch_norm;
  options.layout = layout;
  options.channels = 4;
  options.classifier_width = 16;
  options.classes = 5;
  options.pool_grid = 2;
  options.image_size = 32;
  return options;
}

}  // namespace

TEST_CASE("vgg: parameter counts with a 1000-class head, 7x7 grid, no batch norm", "[models]") {
  const auto count = [](std::int64_t depth, bool conv1x1, const std::string& layout) {
    VggOptions options;
    options.depth = depth;
    options.conv1x1 = conv1x1;
    options.layout = layout;
    return vgg_layer_table(options).parameters();
  };
  for (const std::string layout : {"kiln", "torchvision"}) {
    INFO(layout);
    CHECK(count(11, false, layout) == 132'863'336);
    CHECK(count(13, false, layout) == 133'047'848);
    CHECK(count(16, false, layout) == 138'357'544);
    CHECK(count(19, false, layout) == 143'667'240);
  }
  CHECK(count(16, true, "kiln") == 133'638'952);
  VggOptions padded;
  padded.conv1x1 = padded.padded_1x1 = true;
  CHECK(vgg_layer_table(padded).parameters() == 133'638'952);
  // VGG-16 costs about 15.5 G multiply-accumulates per 224x224 image.
  CHECK(vgg_layer_table(VggOptions{}).multiply_accumulates() / 100'000'000 == 154);
}

TEST_CASE("vgg: the plan's table matches the built module and its forward", "[models]") {
  Generator generator(4);
  for (const std::int64_t depth : {11, 13, 16, 19}) {
    for (const bool batch_norm : {false, true}) {
      for (const std::string layout : {"kiln", "torchvision"}) {
        for (const bool conv1x1 : {false, true}) {
          if (conv1x1 && (depth != 16 || layout == "torchvision")) continue;
          const VggOptions options = small_vgg(depth, conv1x1, batch_norm, layout);
          INFO("depth " << depth << " bn " << batch_norm << " " << layout << " 1x1 " << conv1x1);
          Vgg model(options, generator);
          const LayerTable table = vgg_layer_table(options);
          CHECK(model.parameter_count() == table.parameters());
          model.eval();
          const Tensor logits = model(Tensor::randn({2, 3, 32, 32}, generator));
          CHECK(logits.shape() == Shape{2, 5});
          CHECK(table.rows.back().output == Shape{5});
          // Every parameter belongs to a layer of the plan.
          for (const nn::NamedParameter& parameter : model.named_parameters()) {
            const std::string layer = parameter.name.substr(0, parameter.name.rfind('.'));
            const bool planned = std::any_of(table.rows.begin(), table.rows.end(),
                                             [&](const LayerRow& row) { return row.name == layer; });
            CHECK(planned);
          }
        }
      }
    }
  }
}

TEST_CASE("vgg: torchvision layout uses torchvision's module indices", "[models]") {
  Generator generator(5);
  const Vgg plain(small_vgg(16, false, false, "torchvision"), generator);
  std::vector<std::string> names;
  for (const nn::NamedParameter& parameter : plain.named_parameters()) names.push_back(parameter.name);
  // torchvision vgg16: convs at features.0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28; classifier 0, 3, 6.
  const std::vector<std::string> expected = {
      "features.0.weight",   "features.0.bias",     "features.2.weight",  "features.2.bias",     "features.5.weight",
      "features.5.bias",     "features.7.weight",   "features.7.bias",    "features.10.weight",  "features.10.bias",
      "features.12.weight",  "features.12.bias",    "features.14.weight", "features.14.bias",    "features.17.weight",
      "features.17.bias",    "features.19.weight",  "features.19.bias",   "features.21.weight",  "features.21.bias",
      "features.24.weight",  "features.24.bias",    "features.26.weight", "features.26.bias",    "features.28.weight",
      "features.28.bias",    "classifier.0.weight", "classifier.0.bias",  "classifier.3.weight", "classifier.3.bias",
      "classifier.6.weight", "classifier.6.bias"};
  CHECK(names == expected);

  const Vgg normed(small_vgg(11, false, true, "torchvision"), generator);
  std::vector<std::string> buffers;
  for (const nn::NamedBuffer& buffer : normed.named_buffers()) buffers.push_back(buffer.name);
  // vgg11_bn: conv 0, bn 1, relu 2, pool 3, conv 4, bn 5, ...
  REQUIRE(buffers.size() == 16);
  CHECK(buffers[0] == "features.1.running_mean");
  CHECK(buffers[2] == "features.5.running_mean");
  CHECK(buffers[15] == "features.26.running_var");
}

TEST_CASE("vgg: the seed's padded 1x1 convolutions grow the map by 2 pixels", "[models]") {
  VggOptions options;
  options.conv1x1 = options.padded_1x1 = true;
  options.image_size = 64;
  options.pool_grid = 2;
  std::vector<std::int64_t> sides;
  for (const LayerRow& row : vgg_layer_table(options).rows) {
    if (row.output.size() == 3 && (row.operation.starts_with("conv 1x1") || row.operation.starts_with("max pool") ||
                                   row.operation.starts_with("adaptive"))) {
      sides.push_back(row.output[1]);
    }
  }
  // vgg-seed.md: 64, 32, 16 -> 18 -> pool 9 -> 11 -> pool 5 -> 7 -> adaptive 2x2.
  CHECK(sides == std::vector<std::int64_t>{32, 16, 18, 9, 11, 5, 7, 2});
  options.padded_1x1 = false;
  sides.clear();
  for (const LayerRow& row : vgg_layer_table(options).rows) {
    if (row.operation.starts_with("conv 1x1")) sides.push_back(row.output[1]);
  }
  CHECK(sides == std::vector<std::int64_t>{16, 8, 4});
}

TEST_CASE("vgg: options are checked and round-trip through the text map", "[models]") {
  CHECK_THROWS_WITH(VggOptions::from({{"depth", "12"}}), Catch::Contains("depth"));
  CHECK_THROWS_WITH(VggOptions::from({{"depth", "11"}, {"conv1x1", "true"}}), Catch::Contains("conv1x1"));
  CHECK_THROWS_WITH(VggOptions::from({{"conv1x1", "true"}, {"layout", "torchvision"}}), Catch::Contains("conv1x1"));
  CHECK_THROWS_WITH(VggOptions::from({{"pool", "max"}, {"layout", "torchvision"}}), Catch::Contains("pool"));
  CHECK_THROWS_WITH(VggOptions::from({{"pool", "median"}}), Catch::Contains("pool"));
  CHECK_THROWS_WITH(VggOptions::from({{"batch_norm", "yes"}}), Catch::Contains("batch_norm"));
  CHECK_THROWS_WITH(VggOptions::from({{"colour", "red"}}), Catch::Contains("colour"));
  const VggOptions parsed = VggOptions::from({{"depth", "16"},
                                              {"conv1x1", "true"},
                                              {"batch_norm", "true"},
                                              {"pool", "max"},
                                              {"pool_grid", "2"},
                                              {"dropout", "0"},
                                              {"classes", "200"},
                                              {"image_size", "64"}});
  CHECK(parsed.depth == 16);
  CHECK(parsed.conv1x1);
  CHECK(parsed.batch_norm);
  CHECK(parsed.pool == "max");
  CHECK(parsed.pool_grid == 2);
  CHECK(parsed.dropout == 0);
  CHECK(parsed.classes == 200);
  // Every default, as text, parses back to the defaults.
  const ModelOptions defaults = with_defaults(VggOptions::specs(), {});
  CHECK(defaults.size() == VggOptions::specs().size());
  CHECK(vgg_layer_table(VggOptions::from(defaults)).parameters() == 138'357'544);
}

TEST_CASE("vgg: gradients reach every parameter of a small batch-norm VGG-11", "[models]") {
  Generator generator(6);
  Vgg model(small_vgg(11, false, true, "kiln"), generator);
  model.train();
  sum(model(Tensor::randn({3, 3, 32, 32}, generator))).backward();
  for (const nn::NamedParameter& parameter : model.named_parameters()) {
    INFO(parameter.name);
    REQUIRE(parameter.tensor.grad().defined());
    for (const float value : parameter.tensor.grad().to_vector()) REQUIRE(std::isfinite(value));
  }
}
