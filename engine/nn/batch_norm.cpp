#include "kiln/nn/batch_norm.h"

namespace kiln::nn {

BatchNorm::BatchNorm(std::int64_t channels, double running_momentum, double epsilon)
    : momentum(running_momentum), eps(epsilon) {
  KILN_CHECK(channels > 0, "BatchNorm: channels must be positive, got ", channels);
  weight = register_parameter("weight", Tensor::ones({channels}), ParameterKind::norm);
  bias = register_parameter("bias", Tensor::zeros({channels}), ParameterKind::norm);
  running_mean = register_buffer("running_mean", Tensor::zeros({channels}));
  running_var = register_buffer("running_var", Tensor::ones({channels}));
}

BatchNormMode BatchNorm::mode() const {
  if (!is_training()) return BatchNormMode::eval;
  return frozen_ ? BatchNormMode::frozen : BatchNormMode::train;
}

Tensor BatchNorm::forward(const Tensor& input) {
  return batch_norm(input, weight, bias, running_mean, running_var, {mode(), momentum, eps});
}

}  // namespace kiln::nn
