#include "kiln/optim/adam.h"

#include <cmath>

#include "engine/ops/dispatch.h"
#include "kernels/optimizer.h"

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

void Adam::update(std::size_t index, const Tensor& grad, double lr, double l2) {
  const Tensor& weight = parameters_[index].tensor;
  const double t = static_cast<double>(step_ + 1);
  const kernels::AdamStep step{options_.beta1, options_.beta2, options_.eps, lr / (1 - std::pow(options_.beta1, t)),
                               1 / std::sqrt(1 - std::pow(options_.beta2, t)), l2};
  const Tensor &m = exp_avg_[index], &v = exp_avg_sq_[index];
  if (ops::on_cuda("Adam", weight)) {
    KILN_CUDA_KERNEL_CALL(kernels::cuda::adam_update(weight.data<float>(), m.data<float>(), v.data<float>(),
                                                     grad.data<float>(), weight.numel(), step));
    return;
  }
  ops::dispatch_float("Adam", weight, [&]<class T>() {
    kernels::cpu::adam_update(weight.data<T>(), m.data<T>(), v.data<T>(), grad.data<T>(), weight.numel(), step);
  });
}

}  // namespace kiln::optim
