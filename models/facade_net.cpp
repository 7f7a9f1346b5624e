#include "kiln/models/facade_net.h"

#include "kiln/nn/layers.h"

namespace kiln::models {

namespace {

constexpr std::int64_t kernel = 3;

}  // namespace

const std::vector<std::string>& facade_class_names() {
  static const std::vector<std::string> names = {"others", "facade", "pillar", "window", "balcony"};
  return names;
}

const std::vector<ModelOptionSpec>& FacadeNetOptions::specs() {
  static const FacadeNetOptions d;
  static const std::vector<ModelOptionSpec> specs = {
      {"classes", "N", std::to_string(d.classes), "output classes"},
      {"image_size", "N", std::to_string(d.image_size), "square input side in pixels", {"-i"}},
  };
  return specs;
}

FacadeNetOptions FacadeNetOptions::from(const ModelOptions& options) {
  const OptionReader reader("facade-net", specs(), options);
  FacadeNetOptions parsed;
  parsed.classes = reader.integer("classes", 1, 1 << 20);
  parsed.image_size = reader.integer("image_size", 1, 1 << 14);
  return parsed;
}

std::vector<FacadeLayer> facade_net_plan(const FacadeNetOptions& options) {
  using Kind = FacadeLayer::Kind;
  const std::vector<std::pair<Kind, std::int64_t>> widths = {{Kind::conv, 64},
                                                             {Kind::conv, 128},
                                                             {Kind::conv, 256},
                                                             {Kind::transposed_conv, 128},
                                                             {Kind::transposed_conv, 64},
                                                             {Kind::transposed_conv, options.classes}};
  std::vector<FacadeLayer> plan;
  std::int64_t channels = 3;
  for (const auto& [kind, out] : widths) {
    if (!plan.empty()) plan.push_back({Kind::relu, "layers." + std::to_string(plan.size())});
    plan.push_back({kind, "layers." + std::to_string(plan.size()), channels, out});
    channels = out;
  }
  return plan;
}

FacadeNet::FacadeNet(const FacadeNetOptions& options, Generator& generator) {
  layers_ = register_module("layers", std::make_shared<nn::Sequential>());
  for (const FacadeLayer& layer : facade_net_plan(options)) {
    switch (layer.kind) {
      case FacadeLayer::Kind::conv:
        layers_->add(std::make_shared<nn::Conv2d>(layer.in, layer.out, kernel, generator, Conv2dOptions::square(1, 1)));
        break;
      case FacadeLayer::Kind::transposed_conv:
        layers_->add(std::make_shared<nn::ConvTranspose2d>(layer.in, layer.out, kernel, generator,
                                                           ConvTranspose2dOptions::square(1, 1)));
        break;
      case FacadeLayer::Kind::relu:
        layers_->add(std::make_shared<nn::ReLU>());
        break;
    }
  }
}

Tensor FacadeNet::forward(const Tensor& images) {
  KILN_CHECK(images.dim() == 4 && images.size(1) == 3, "facade-net: expected images [N, 3, H, W], got ",
             describe(images));
  return layers_->forward(images);
}

LayerTable facade_net_layer_table(const FacadeNetOptions& options) {
  LayerTable table;
  table.input = {3, options.image_size, options.image_size};
  Shape shape = table.input;
  for (const FacadeLayer& layer : facade_net_plan(options)) {
    LayerRow row{layer.name, "relu", shape, 0, 0};
    if (layer.kind != FacadeLayer::Kind::relu) {
      // 3x3, stride 1, padding 1: both kinds keep the map's size.
      shape = {layer.out, shape[1], shape[2]};
      row.output = shape;
      row.operation = std::string(layer.kind == FacadeLayer::Kind::conv ? "conv" : "transposed conv") + " 3x3 " +
                      std::to_string(layer.in) + "->" + std::to_string(layer.out) + " pad 1";
      row.parameters = layer.in * layer.out * kernel * kernel + layer.out;
      row.multiply_accumulates = shape[1] * shape[2] * layer.in * layer.out * kernel * kernel;
    }
    table.rows.push_back(row);
  }
  return table;
}

ModelFamily facade_net_family() {
  return {"facade-net",
          "seed 004's facade segmenter: three 3x3 convolutions, three 3x3 "
          "transposed convolutions",
          Task::segmentation,
          FacadeNetOptions::specs(),
          [](const ModelOptions& options, Generator& generator) {
            return std::make_shared<FacadeNet>(FacadeNetOptions::from(options), generator);
          },
          [](const ModelOptions& options) { return facade_net_layer_table(FacadeNetOptions::from(options)); },
          [](const ModelOptions& options) {
            InputFormat input;
            input.image_size = FacadeNetOptions::from(options).image_size;
            input.training_normalization = input.weights_normalization = "[-1,1]";
            return input;
          },
          [](const ModelOptions& options) {
            return FacadeNetOptions::from(options).classes == 5 ? facade_class_names() : std::vector<std::string>{};
          }};
}

}  // namespace kiln::models
