#pragma once
// RoomNet, the published 6-class room classifier (ironhide23586/RoomNet), exactly: 3x3 VALID convolutions without bias,
// ReLU6, average pooling and batch norm (eps 1e-3, TensorFlow decay 0.99); residual blocks that add their first step's
// output, bilinearly resized the TensorFlow 1.x way; a channels-last flatten; dense blocks 64->32->16->8 and an 8->6
// layer with bias and ReLU6; dropout after every block. 176,910 trainable parameters for a 224x224x3 input. See
// docs/models.md for the layer table.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/models/family.h"
#include "kiln/nn/batch_norm.h"
#include "kiln/nn/layers.h"

namespace kiln::models {

// The published class order.
const std::vector<std::string>& roomnet_class_names();

struct RoomNetOptions {
  std::int64_t classes = 6;
  // Square input side. The dense head's width follows the last feature map (2x2x16 = 64 at 224); sizes below 183 leave
  // no pixels for the last pooling and are rejected.
  std::int64_t image_size = 224;
  // Dropout after every block; the published schedule starts at 0 and ends at 0.35 (set_dropout changes it).
  double dropout = 0;

  static const std::vector<ModelOptionSpec>& specs();  // classes, image_size, dropout
  static RoomNetOptions from(const ModelOptions& options);
};

class RoomNet : public nn::Module {
 public:
  // Glorot-uniform kernels, zero biases; batch norm gamma 1, beta 0, running mean 0, variance 1.
  RoomNet(const RoomNetOptions& options, Generator& generator);
  Tensor forward(const Tensor& images) override;  // [N, 3, S, S] -> [N, classes], ReLU6 of the logits

  void set_dropout(double rate);
  double dropout() const;
  // Every batch norm normalises with its stored statistics and stops updating them, while gamma and beta train.
  void freeze_batch_norm_statistics(bool frozen = true);

  // Dropout masks come from the model's own generator, registered as "dropout" (seeded from the construction one), saved with checkpoints.
  Generator dropout_generator;

 private:
  // Forward order: each block is followed by the one dropout layer.
  std::vector<std::shared_ptr<nn::Module>> conv_blocks_, dense_blocks_;
  std::vector<std::shared_ptr<nn::BatchNorm>> norms_;
  std::shared_ptr<nn::Dropout> dropout_;
  std::int64_t features_ = 0;  // the dense head's input width
};

// [N, C, H, W] -> [N, H*W*C] in TensorFlow's NHWC order, element (h*W + w)*C + c, as RoomNet flattens: a permute to
// [N, H, W, C], then a flatten.
Tensor flatten_channels_last(const Tensor& x);

// The layer table of RoomNet for `options` (throws when the input is too small for its pooling).
LayerTable roomnet_layer_table(const RoomNetOptions& options);

// RGB at image_size, the centre square of the longer side as published, [-1, 1] for training and for the published
// weights alike; its six rooms as class names at 6 classes.
ModelFamily roomnet_family();

}  // namespace kiln::models
