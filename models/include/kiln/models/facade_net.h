#pragma once
// The facade segmenter of seed 004 (CMP facades, 5 classes), exactly: 3x3 convolutions 3->64->128->256, 3x3 transposed
// convolutions 256->128->64->classes, all stride 1 and padding 1 so that the scores keep the input's size, ReLU between
// the layers (not after the last), PyTorch's default initialisation. 742,533 parameters at 5 classes.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/models/family.h"
#include "kiln/nn/sequential.h"

namespace kiln::models {

// The seed's palette order (names inferred from reports: ../shared/notes/segmentation-seeds.md).
const std::vector<std::string>& facade_class_names();

struct FacadeNetOptions {
  std::int64_t classes = 5;
  std::int64_t image_size = 256;  // for the layer table; any size gives scores of that size

  static const std::vector<ModelOptionSpec>& specs();  // classes, image_size
  static FacadeNetOptions from(const ModelOptions& options);
};

// One module in build order, named as in the model ("layers.0").
struct FacadeLayer {
  enum class Kind { conv, transposed_conv, relu };
  Kind kind;
  std::string name;
  std::int64_t in = 0, out = 0;
};

// The plan both the model and its layer table are made from.
std::vector<FacadeLayer> facade_net_plan(const FacadeNetOptions& options);

class FacadeNet : public nn::Module {
 public:
  FacadeNet(const FacadeNetOptions& options, Generator& generator);
  Tensor forward(const Tensor& images) override;  // [N, 3, H, W] -> [N, classes, H, W] scores

 private:
  std::shared_ptr<nn::Sequential> layers_;
};

LayerTable facade_net_layer_table(const FacadeNetOptions& options);

// RGB at 256x256 normalised as the seed's x/128 - 1, which is "[-1,1]" (x/127.5 - 1) within 1/256: kiln train and
// weights from the seed both use that preset.
ModelFamily facade_net_family();

}  // namespace kiln::models
