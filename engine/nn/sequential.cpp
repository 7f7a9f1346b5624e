#include "kiln/nn/sequential.h"

namespace kiln::nn {

Tensor Sequential::forward(const Tensor& input) {
  Tensor output = input;
  for (const std::shared_ptr<Module>& layer : layers_) output = layer->forward(output);
  return output;
}

}  // namespace kiln::nn
