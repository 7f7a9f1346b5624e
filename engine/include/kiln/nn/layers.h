#pragma once
// The basic layers. Weights are initialised from the given generator (PyTorch's defaults unless stated).
#include <cstdint>

#include "kiln/nn/module.h"
#include "kiln/ops.h"

namespace kiln::nn {

class Conv2d : public Module {
 public:
  // Kaiming-uniform weights with a = sqrt(5) and uniform bias, as torch.nn.Conv2d.
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size, Generator& generator,
         Conv2dOptions conv_options = {}, bool with_bias = true);
  Tensor forward(const Tensor& input) override;
  Tensor weight, bias;  // handles to the registered parameters (bias undefined when disabled)
  Conv2dOptions options;
};

class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size, Generator& generator,
                  ConvTranspose2dOptions conv_options = {}, bool with_bias = true);
  Tensor forward(const Tensor& input) override;
  Tensor weight, bias;
  ConvTranspose2dOptions options;
};

class Linear : public Module {
 public:
  Linear(std::int64_t in_features, std::int64_t out_features, Generator& generator, bool with_bias = true);
  Tensor forward(const Tensor& input) override;
  Tensor weight, bias;
};

// Inverted dropout, active only in training; draws masks from the generator it was given (kept by reference).
class Dropout : public Module {
 public:
  Dropout(double rate, Generator& generator);
  Tensor forward(const Tensor& input) override;
  double p;  // may be changed during training (RoomNet's schedule)

 private:
  Generator* generator_;
};

// Parameter-free layers, so that Sequential can hold whole networks.
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& input) override { return relu(input); }
};
class ReLU6 : public Module {
 public:
  Tensor forward(const Tensor& input) override { return relu6(input); }
};
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Pool2dOptions pool_options) : options(pool_options) {}
  Tensor forward(const Tensor& input) override { return max_pool2d(input, options); }
  Pool2dOptions options;
};
class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Pool2dOptions pool_options) : options(pool_options) {}
  Tensor forward(const Tensor& input) override { return avg_pool2d(input, options); }
  Pool2dOptions options;
};
class Flatten : public Module {
 public:
  Tensor forward(const Tensor& input) override { return input.flatten(1); }
};

}  // namespace kiln::nn
