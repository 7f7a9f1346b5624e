#include "kiln/nn/layers.h"

#include <cmath>
#include <initializer_list>
#include <utility>

namespace kiln::nn {
namespace {

// PyTorch's default init for conv and linear layers: kaiming_uniform(a = sqrt(5)) on the weight reduces to
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias uses the same bound.
Tensor uniform_for_fan_in(const Shape& shape, std::int64_t fan_in, Generator& generator) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return Tensor::uniform(shape, -bound, bound, generator);
}

void check_positive(const char* layer, std::initializer_list<std::pair<const char*, std::int64_t>> sizes) {
  for (const auto& [name, size] : sizes) KILN_CHECK(size > 0, layer, ": ", name, " must be positive, got ", size);
}

}  // namespace

Conv2d::Conv2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size, Generator& generator,
               Conv2dOptions conv_options, bool with_bias)
    : options(conv_options) {
  check_positive("Conv2d",
                 {{"in_channels", in_channels}, {"out_channels", out_channels}, {"kernel_size", kernel_size}});
  const std::int64_t fan_in = in_channels * kernel_size * kernel_size;
  weight = register_parameter(
      "weight", uniform_for_fan_in({out_channels, in_channels, kernel_size, kernel_size}, fan_in, generator));
  if (with_bias) {
    bias = register_parameter("bias", uniform_for_fan_in({out_channels}, fan_in, generator), ParameterKind::bias);
  }
}

Tensor Conv2d::forward(const Tensor& input) { return conv2d(input, weight, bias, options); }

ConvTranspose2d::ConvTranspose2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size,
                                 Generator& generator, ConvTranspose2dOptions conv_options, bool with_bias)
    : options(conv_options) {
  check_positive("ConvTranspose2d",
                 {{"in_channels", in_channels}, {"out_channels", out_channels}, {"kernel_size", kernel_size}});
  // PyTorch takes fan_in from weight dim 1, which for the [C_in, C_out, R, S] layout is the output channels.
  const std::int64_t fan_in = out_channels * kernel_size * kernel_size;
  weight = register_parameter(
      "weight", uniform_for_fan_in({in_channels, out_channels, kernel_size, kernel_size}, fan_in, generator));
  if (with_bias) {
    bias = register_parameter("bias", uniform_for_fan_in({out_channels}, fan_in, generator), ParameterKind::bias);
  }
}

Tensor ConvTranspose2d::forward(const Tensor& input) { return conv_transpose2d(input, weight, bias, options); }

Linear::Linear(std::int64_t in_features, std::int64_t out_features, Generator& generator, bool with_bias) {
  check_positive("Linear", {{"in_features", in_features}, {"out_features", out_features}});
  weight = register_parameter("weight", uniform_for_fan_in({out_features, in_features}, in_features, generator));
  if (with_bias) {
    bias = register_parameter("bias", uniform_for_fan_in({out_features}, in_features, generator), ParameterKind::bias);
  }
}

Tensor Linear::forward(const Tensor& input) { return linear(input, weight, bias); }

Dropout::Dropout(double rate, Generator& generator) : p(rate), generator_(&generator) {
  KILN_CHECK(rate >= 0 && rate < 1, "Dropout: rate must lie in [0, 1), got ", rate);
}

Tensor Dropout::forward(const Tensor& input) { return dropout(input, p, is_training(), *generator_); }

}  // namespace kiln::nn
