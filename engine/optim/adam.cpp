#include "kiln/optim/adam.h"

#include <cmath>

#include "engine/ops/dispatch.h"

namespace kiln::optim {

Adam::Adam(std::vector<nn::NamedParameter> parameters, ExponentialDecay schedule, L2Options l2, AdamOptions options)
    : Optimizer(std::move(parameters), schedule, l2), options_(options) {
  KILN_CHECK(options_.beta1 >= 0 && options_.beta1 < 1 && options_.beta2 >= 0 && options_.beta2 < 1,
             "Adam: betas must lie in [0, 1), got ", options_.beta1, " and ", options_.beta2);
  KILN_CHECK(options_.eps >= 0, "Adam: eps must not be negative, got ", options_.eps);
  // Zero moments are what PyTorch creates on a parameter's first update.
  for (const nn::NamedParameter& parameter : parameters_) {
    const Tensor& weight = parameter.tensor;
    exp_avg_.push_back(Tensor::zeros(weight.shape(), weight.dtype(), weight.device()));
    exp_avg_sq_.push_back(Tensor::zeros(weight.shape(), weight.dtype(), weight.device()));
  }
}

std::vector<nn::NamedBuffer> Adam::state() const {
  std::vector<nn::NamedBuffer> named;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    named.push_back({"exp_avg." + parameters_[i].name, exp_avg_[i]});
    named.push_back({"exp_avg_sq." + parameters_[i].name, exp_avg_sq_[i]});
  }
  return named;
}

void Adam::update(std::size_t index, const Tensor& grad, double lr) {
  const Tensor& weight = parameters_[index].tensor;
  const double beta1 = options_.beta1, beta2 = options_.beta2, eps = options_.eps;
  const double t = static_cast<double>(step_ + 1);
  const double step_size = lr / (1 - std::pow(beta1, t));
  const double inverse_sqrt_correction2 = 1 / std::sqrt(1 - std::pow(beta2, t));
  ops::dispatch_float("Adam", weight, [&]<class T>() {
    T* w = weight.data<T>();
    T* m = exp_avg_[index].data<T>();
    T* v = exp_avg_sq_[index].data<T>();
    const T* g = grad.data<T>();
    for (std::int64_t i = 0, n = weight.numel(); i < n; ++i) {
      const double gradient = g[i];
      const double first = beta1 * m[i] + (1 - beta1) * gradient;
      const double second = beta2 * v[i] + (1 - beta2) * gradient * gradient;
      m[i] = static_cast<T>(first);
      v[i] = static_cast<T>(second);
      // eps is added after the bias-corrected square root, as torch.optim.Adam does.
      w[i] = static_cast<T>(w[i] - step_size * first / (std::sqrt(second) * inverse_sqrt_correction2 + eps));
    }
  });
}

}  // namespace kiln::optim
