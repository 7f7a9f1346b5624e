#pragma once
// VGG (Simonyan & Zisserman 2014): configurations A (11 layers), B (13), C (16 with three 1x1 convolutions), D (16) and
// E (19), optional batch norm, an adaptive pool to a chosen grid, a three-layer classifier.
//
// Layout "kiln" (the Tiny ImageNet seed's design): features = the conv stages ([conv, bn?, relu]..., max pool 2/2 after
// stages 1-4), then `pool` (adaptive max or average to the grid) in place of the last max pool. Layout "torchvision":
// exactly torchvision's vgg11..vgg19(_bn): a max pool after stage 5 too, `avgpool` adaptive average, so that a
// torchvision state dict loads by name (features.N.*, classifier.0/3/6.*). Both: classifier = Linear, ReLU, Dropout,
// Linear, ReLU, Dropout, Linear (classifier.0, .3, .6); conv weights Kaiming normal (fan_out, relu) with zero biases,
// linear weights N(0, 0.01) with zero biases, as torchvision and the seed initialise them.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/models/family.h"
#include "kiln/nn/sequential.h"

namespace kiln::models {

struct VggOptions {
  std::int64_t depth = 16;  // 11 (A), 13 (B), 16 (D, or C with conv1x1), 19 (E)
  bool conv1x1 = false;     // configuration C: the last conv of stages 3-5 is 1x1 (depth 16 only)
  bool padded_1x1 = false;  // the seed's quirk: its 1x1 convs keep padding 1 and grow the map by 2 pixels
  bool batch_norm = false;
  std::int64_t classes = 1000;
  std::int64_t image_size = 224;  // for the layer table; the adaptive pool accepts any size that survives the pools
  std::int64_t channels = 64;     // stage widths are channels x (1, 2, 4, 8, 8): 64 as published; less for tests
  std::int64_t classifier_width = 4096;
  std::string pool = "avg";  // "avg" (the seed, torchvision) or "max" (the paper's last max pool at 224 px)
  std::int64_t pool_grid = 7;
  double dropout = 0.5;
  std::string layout = "kiln";  // or "torchvision"

  static const std::vector<ModelOptionSpec>& specs();
  static VggOptions from(const ModelOptions& options);  // checks the combination too
};

// One module of the network in build order, with where it goes ("features.3", "pool", "classifier.0").
struct VggLayer {
  enum class Kind { conv, batch_norm, relu, max_pool, adaptive_pool, dropout, linear };
  Kind kind;
  std::string name;
  std::int64_t in = 0, out = 0;          // channels or features
  std::int64_t kernel = 0, padding = 0;  // conv; the adaptive pool keeps its grid in kernel
};

// The plan both the model and its layer table are made from.
std::vector<VggLayer> vgg_plan(const VggOptions& options);

class Vgg : public nn::Module {
 public:
  Vgg(const VggOptions& options, Generator& generator);
  Tensor forward(const Tensor& images) override;  // [N, 3, H, W] -> [N, classes] logits

  // Dropout masks come from the model's own generator, registered as "dropout" (seeded from the construction one), saved with checkpoints.
  Generator dropout_generator;

 private:
  std::shared_ptr<nn::Sequential> features_, classifier_;
  std::shared_ptr<nn::Module> pool_;
};

LayerTable vgg_layer_table(const VggOptions& options);

// RGB at image_size. Layout torchvision: torchvision's evaluation crop and ImageNet normalisation, for training and for
// its weights. Layout kiln: kiln train normalises with the training images' statistics, while weights from the seed
// project expect [-1, 1] (what it trained with): the two differ on purpose.
ModelFamily vgg_family();

}  // namespace kiln::models
