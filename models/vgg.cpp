#include "kiln/models/vgg.h"

#include <cmath>
#include <sstream>

#include "kiln/nn/batch_norm.h"
#include "kiln/nn/layers.h"

namespace kiln::models {

namespace {

// Convolutions per stage for each depth (the paper's Table 1; C is D with 1x1 last convs in stages 3-5).
std::vector<std::int64_t> convs_per_stage(std::int64_t depth) {
  switch (depth) {
    case 11:
      return {1, 1, 2, 2, 2};
    case 13:
      return {2, 2, 2, 2, 2};
    case 16:
      return {2, 2, 3, 3, 3};
    case 19:
      return {2, 2, 4, 4, 4};
    default:
      fail("VGG: depth must be 11, 13, 16 or 19, got ", depth);
  }
}
constexpr std::int64_t stage_width_multipliers[] = {1, 2, 4, 8, 8};

bool is_torchvision(const VggOptions& options) { return options.layout == "torchvision"; }

class AdaptivePool2d : public nn::Module {
 public:
  AdaptivePool2d(bool max, std::int64_t grid) : max_(max), grid_(grid) {}
  Tensor forward(const Tensor& input) override {
    return max_ ? adaptive_max_pool2d(input, grid_, grid_) : adaptive_avg_pool2d(input, grid_, grid_);
  }

 private:
  bool max_;
  std::int64_t grid_;
};

std::string text_of(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

}  // namespace

const std::vector<ModelOptionSpec>& VggOptions::specs() {
  static const VggOptions d;
  static const std::vector<ModelOptionSpec> specs = {
      {"depth", "11|13|16|19", std::to_string(d.depth), "weight layers: configurations A, B, D (or C), E", {"-d"}},
      {"conv1x1", "true|false", "false", "configuration C: 1x1 last convolution in stages 3-5 (depth 16)", {"-c11"}},
      {"padded_1x1", "true|false", "false", "the seed's quirk: the 1x1 convolutions keep padding 1", {}, "--pad-1x1"},
      {"batch_norm", "true|false", "false", "batch norm after every convolution"},
      {"classes", "N", std::to_string(d.classes), "output classes"},
      {"image_size", "N", std::to_string(d.image_size), "square input side in pixels", {"-i"}},
      {"channels", "N", std::to_string(d.channels), "first stage's width; the stages use 1, 2, 4, 8, 8 times it"},
      {"classifier_width", "N", std::to_string(d.classifier_width), "width of the two hidden classifier layers"},
      {"pool", "avg|max", d.pool, "adaptive pooling before the classifier (torchvision layout: avg)"},
      {"pool_grid", "N", std::to_string(d.pool_grid), "the adaptive pool's output is N x N"},
      {"dropout", "X", text_of(d.dropout), "dropout rate in the classifier"},
      {"layout", "kiln|torchvision", d.layout, "module layout; torchvision's loads its state dicts by name"},
  };
  return specs;
}

VggOptions VggOptions::from(const ModelOptions& options) {
  const OptionReader reader("vgg", specs(), options);
  VggOptions parsed;
  parsed.depth = std::stoll(reader.choice("depth", {"11", "13", "16", "19"}));
  parsed.conv1x1 = reader.boolean("conv1x1");
  parsed.padded_1x1 = reader.boolean("padded_1x1");
  parsed.batch_norm = reader.boolean("batch_norm");
  parsed.classes = reader.integer("classes", 1, 1 << 20);
  parsed.image_size = reader.integer("image_size", 32, 1 << 14);
  parsed.channels = reader.integer("channels", 1, 1 << 14);
  parsed.classifier_width = reader.integer("classifier_width", 1, 1 << 20);
  parsed.pool = reader.choice("pool", {"avg", "max"});
  parsed.pool_grid = reader.integer("pool_grid", 1, 1 << 10);
  parsed.dropout = reader.number("dropout", 0, 0.99);
  parsed.layout = reader.choice("layout", {"kiln", "torchvision"});
  KILN_CHECK(!parsed.conv1x1 || parsed.depth == 16, "model vgg: option conv1x1 (configuration C) needs depth 16, got ",
             parsed.depth);
  KILN_CHECK(!parsed.padded_1x1 || parsed.conv1x1, "model vgg: option padded_1x1 needs conv1x1");
  if (is_torchvision(parsed)) {
    KILN_CHECK(!parsed.conv1x1,
               "model vgg: torchvision has no 1x1 "
               "configuration (option conv1x1 with layout "
               "torchvision)");
    KILN_CHECK(parsed.pool == "avg",
               "model vgg: torchvision's layout pools by adaptive average "
               "(option pool is '",
               parsed.pool, "')");
  }
  return parsed;
}

std::vector<VggLayer> vgg_plan(const VggOptions& options) {
  KILN_CHECK(!options.conv1x1 || options.depth == 16, "VGG: the 1x1 configuration (C) has depth 16, not ",
             options.depth);
  KILN_CHECK(options.layout == "kiln" || options.layout == "torchvision", "VGG: unknown layout '", options.layout,
             "' (kiln or torchvision)");
  using Kind = VggLayer::Kind;
  std::vector<VggLayer> plan;
  const std::vector<std::int64_t> convs = convs_per_stage(options.depth);
  std::int64_t index = 0, channels = 3;
  const auto feature = [&](Kind kind, std::int64_t in = 0, std::int64_t out = 0, std::int64_t kernel = 0,
                           std::int64_t padding = 0) {
    plan.push_back({kind, "features." + std::to_string(index++), in, out, kernel, padding});
  };
  for (std::size_t stage = 0; stage < convs.size(); ++stage) {
    const std::int64_t width = options.channels * stage_width_multipliers[stage];
    for (std::int64_t conv = 0; conv < convs[stage]; ++conv) {
      const bool one_by_one = options.conv1x1 && stage >= 2 && conv == convs[stage] - 1;
      feature(Kind::conv, channels, width, one_by_one ? 1 : 3, one_by_one && !options.padded_1x1 ? 0 : 1);
      if (options.batch_norm) feature(Kind::batch_norm, width, width);
      feature(Kind::relu);
      channels = width;
    }
    // The last stage's max pool is torchvision's; the seed lets the adaptive pool do that reduction.
    if (stage + 1 < convs.size() || is_torchvision(options)) feature(Kind::max_pool);
  }
  plan.push_back(
      {Kind::adaptive_pool, is_torchvision(options) ? "avgpool" : "pool", channels, channels, options.pool_grid, 0});
  const std::int64_t flattened = channels * options.pool_grid * options.pool_grid;
  const std::vector<VggLayer> classifier = {
      {Kind::linear, "classifier.0", flattened, options.classifier_width},
      {Kind::relu, "classifier.1"},
      {Kind::dropout, "classifier.2"},
      {Kind::linear, "classifier.3", options.classifier_width, options.classifier_width},
      {Kind::relu, "classifier.4"},
      {Kind::dropout, "classifier.5"},
      {Kind::linear, "classifier.6", options.classifier_width, options.classes},
  };
  plan.insert(plan.end(), classifier.begin(), classifier.end());
  return plan;
}

Vgg::Vgg(const VggOptions& options, Generator& generator) : dropout_generator(generator.below(std::uint64_t(1) << 62)) {
  register_generator("dropout", dropout_generator);
  features_ = register_module("features", std::make_shared<nn::Sequential>());
  const std::vector<VggLayer> plan = vgg_plan(options);
  for (const VggLayer& layer : plan) {
    if (layer.kind == VggLayer::Kind::adaptive_pool) {
      pool_ = register_module(layer.name, std::make_shared<AdaptivePool2d>(options.pool == "max", layer.kernel));
      classifier_ = register_module("classifier", std::make_shared<nn::Sequential>());
      continue;
    }
    nn::Sequential& sequence = classifier_ ? *classifier_ : *features_;
    switch (layer.kind) {
      case VggLayer::Kind::conv: {
        auto conv = sequence.add(std::make_shared<nn::Conv2d>(layer.in, layer.out, layer.kernel, generator,
                                                              Conv2dOptions::square(1, layer.padding)));
        // Kaiming normal, fan_out mode for a ReLU: std = sqrt(2 / (out * k * k)).
        const double std = std::sqrt(2.0 / static_cast<double>(layer.out * layer.kernel * layer.kernel));
        conv->weight.copy_from(scale(Tensor::randn(conv->weight.shape(), generator), std));
        conv->bias.fill(0);
        break;
      }
      case VggLayer::Kind::batch_norm:
        sequence.add(std::make_shared<nn::BatchNorm>(layer.out));
        break;
      case VggLayer::Kind::relu:
        sequence.add(std::make_shared<nn::ReLU>());
        break;
      case VggLayer::Kind::max_pool:
        sequence.add(std::make_shared<nn::MaxPool2d>(Pool2dOptions::square(2, 2)));
        break;
      case VggLayer::Kind::dropout:
        sequence.add(std::make_shared<nn::Dropout>(options.dropout, dropout_generator));
        break;
      case VggLayer::Kind::linear: {
        auto linear = sequence.add(std::make_shared<nn::Linear>(layer.in, layer.out, generator));
        linear->weight.copy_from(scale(Tensor::randn(linear->weight.shape(), generator), 0.01));
        linear->bias.fill(0);
        break;
      }
      case VggLayer::Kind::adaptive_pool:
        break;
    }
    const std::string expected = (classifier_ ? "classifier." : "features.") + std::to_string(sequence.size() - 1);
    KILN_CHECK(layer.name == expected, "VGG: the plan names ", layer.name, " but the module is ", expected);
  }
}

Tensor Vgg::forward(const Tensor& images) {
  KILN_CHECK(images.dim() == 4 && images.size(1) == 3, "VGG: expected images [N, 3, H, W], got ", describe(images));
  return classifier_->forward(pool_->forward(features_->forward(images)).flatten(1));
}

LayerTable vgg_layer_table(const VggOptions& options) {
  LayerTable table;
  table.input = {3, options.image_size, options.image_size};
  Shape shape = table.input;
  for (const VggLayer& layer : vgg_plan(options)) {
    LayerRow row{layer.name, "", {}, 0, 0};
    switch (layer.kind) {
      case VggLayer::Kind::conv: {
        const std::int64_t side = shape[1] + 2 * layer.padding - layer.kernel + 1;
        KILN_CHECK(side > 0, "VGG: ", layer.name, " gets a ", shape[1], "x", shape[2],
                   " map, too small for its kernel (image_size ", options.image_size, ")");
        shape = {layer.out, side, side};
        row.operation = "conv " + std::to_string(layer.kernel) + "x" + std::to_string(layer.kernel) + " " +
                        std::to_string(layer.in) + "->" + std::to_string(layer.out) + " pad " +
                        std::to_string(layer.padding);
        row.parameters = layer.out * layer.in * layer.kernel * layer.kernel + layer.out;
        row.multiply_accumulates = side * side * layer.out * layer.in * layer.kernel * layer.kernel;
        break;
      }
      case VggLayer::Kind::batch_norm:
        row.operation = "batch norm";
        row.parameters = 2 * layer.out;
        break;
      case VggLayer::Kind::relu:
        row.operation = "relu";
        break;
      case VggLayer::Kind::max_pool:
        KILN_CHECK(shape[1] >= 2, "VGG: ", layer.name, " gets a ", shape[1], "x", shape[2],
                   " map, too small for its 2x2 max pool (image_size ", options.image_size, ")");
        shape = {shape[0], shape[1] / 2, shape[2] / 2};
        row.operation = "max pool 2/2";
        break;
      case VggLayer::Kind::adaptive_pool:
        shape = {shape[0], layer.kernel, layer.kernel};
        row.operation = "adaptive " + options.pool + " pool to " + std::to_string(layer.kernel) + "x" +
                        std::to_string(layer.kernel);
        break;
      case VggLayer::Kind::dropout:
        row.operation = "dropout " + text_of(options.dropout);
        break;
      case VggLayer::Kind::linear:
        shape = {layer.out};
        row.operation = "fc " + std::to_string(layer.in) + "->" + std::to_string(layer.out);
        row.parameters = layer.in * layer.out + layer.out;
        row.multiply_accumulates = layer.in * layer.out;
        break;
    }
    row.output = shape;
    table.rows.push_back(row);
  }
  return table;
}

ModelFamily vgg_family() {
  return {"vgg",
          "VGG-11/13/16/19 (configurations A to E), optional batch norm, kiln's or torchvision's layout",
          Task::classification,
          VggOptions::specs(),
          [](const ModelOptions& options, Generator& generator) {
            return std::make_shared<Vgg>(VggOptions::from(options), generator);
          },
          [](const ModelOptions& options) { return vgg_layer_table(VggOptions::from(options)); },
          [](const ModelOptions& options) {
            const VggOptions vgg = VggOptions::from(options);
            InputFormat input;
            input.image_size = vgg.image_size;
            if (is_torchvision(vgg)) {
              // torchvision's ImageNet evaluation, Resize(256) then CenterCrop(224), in proportion at other sizes.
              input.resize_shorter = (vgg.image_size * 256 + 112) / 224;
              input.training_normalization = input.weights_normalization = "imagenet";
            } else {
              input.weights_normalization = "[-1,1]";
            }
            return input;
          },
          {}};
}

}  // namespace kiln::models
