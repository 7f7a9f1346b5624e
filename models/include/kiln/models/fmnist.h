#pragma once
// The Fashion-MNIST nets (1x28x28 inputs, 10 classes).
#include <memory>

#include "kiln/models/family.h"
#include "kiln/nn/batch_norm.h"
#include "kiln/nn/layers.h"
#include "kiln/nn/sequential.h"

namespace kiln::models {

// fmnist-small, exactly the seed project's net: conv 1->32 3x3, relu, maxpool 2/2, conv 32->32 3x3, relu,
// maxpool 3/3, flatten 288, fc 288->120, relu, fc 120->10. 45,458 parameters.
class FmnistSmall : public nn::Module {
 public:
  explicit FmnistSmall(Generator& generator);
  Tensor forward(const Tensor& images) override;

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_;
  std::shared_ptr<nn::Linear> fc1_, fc2_;
};

// fmnist-bn, kiln's stronger design that stays quick on a CPU:
// features: (conv 3x3 pad 1, BN, relu) 1->16, 16->16, maxpool 2; 16->32, 32->32, maxpool 2 (28 -> 14 -> 7);
// classifier: flatten 1568, fc 1568->128, BN, relu, dropout 0.3, fc 128->10.
class FmnistBn : public nn::Module {
 public:
  // Dropout masks come from the model's own generator, registered as "dropout" (seeded from `generator`), saved with checkpoints.
  explicit FmnistBn(Generator& generator);
  Tensor forward(const Tensor& images) override;
  Generator dropout_generator;

 private:
  std::shared_ptr<nn::Sequential> features_, classifier_;
};

// Their layers for kiln info, module names as in their checkpoints (fmnist-small's pools and flatten are steps of its
// forward, not modules).
LayerTable fmnist_small_layer_table();
LayerTable fmnist_bn_layer_table();

// Their families: gray 28x28 inputs trained in memory on Fashion-MNIST (whose ten classes are their default names).
ModelFamily fmnist_small_family();
ModelFamily fmnist_bn_family();

}  // namespace kiln::models
