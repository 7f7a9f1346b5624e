#include "kiln/optim/sgd.h"

#include "engine/ops/dispatch.h"

namespace kiln::optim {

SGD::SGD(std::vector<nn::NamedParameter> parameters, ExponentialDecay schedule, L2Options l2, SgdOptions options)
    : Optimizer(std::move(parameters), schedule, l2), options_(options) {
  KILN_CHECK(options_.momentum >= 0, "SGD: momentum must not be negative, got ", options_.momentum);
  KILN_CHECK(!options_.nesterov || options_.momentum > 0, "SGD: Nesterov momentum needs momentum > 0");
  if (options_.momentum == 0) return;  // plain SGD keeps no state
  // With a zero buffer, the first update v = momentum * 0 + g sets v = g as torch.optim.SGD does.
  for (const nn::NamedParameter& parameter : parameters_) {
    const Tensor& weight = parameter.tensor;
    velocity_.push_back(Tensor::zeros(weight.shape(), weight.dtype(), weight.device()));
  }
}

std::vector<nn::NamedBuffer> SGD::state() const {
  std::vector<nn::NamedBuffer> named;
  for (std::size_t i = 0; i < velocity_.size(); ++i) {
    named.push_back({"momentum_buffer." + parameters_[i].name, velocity_[i]});
  }
  return named;
}

void SGD::update(std::size_t index, const Tensor& grad, double lr) {
  const Tensor& weight = parameters_[index].tensor;
  const double momentum = options_.momentum;
  const bool nesterov = options_.nesterov;
  ops::dispatch_float("SGD", weight, [&]<class T>() {
    T* w = weight.data<T>();
    const T* g = grad.data<T>();
    const std::int64_t n = weight.numel();
    if (momentum == 0) {
      for (std::int64_t i = 0; i < n; ++i) w[i] = static_cast<T>(w[i] - lr * g[i]);
      return;
    }
    T* v = velocity_[index].data<T>();
    for (std::int64_t i = 0; i < n; ++i) {
      const double velocity = momentum * v[i] + g[i];
      v[i] = static_cast<T>(velocity);
      const double direction = nesterov ? g[i] + momentum * velocity : velocity;
      w[i] = static_cast<T>(w[i] - lr * direction);
    }
  });
}

}  // namespace kiln::optim
