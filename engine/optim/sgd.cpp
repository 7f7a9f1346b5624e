#include "kiln/optim/sgd.h"

#include "engine/ops/dispatch.h"
#include "kernels/optimizer.h"

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

void SGD::update(std::size_t index, const Tensor& grad, double lr, double l2) {
  const Tensor& weight = parameters_[index].tensor;
  const kernels::SgdStep step{lr, options_.momentum, l2, options_.nesterov};
  const Tensor velocity = velocity_.empty() ? Tensor() : velocity_[index];
  if (ops::on_cuda("SGD", weight)) {
    KILN_CUDA_KERNEL_CALL(kernels::cuda::sgd_update(weight.data<float>(),
                                                    velocity.defined() ? velocity.data<float>() : nullptr,
                                                    grad.data<float>(), weight.numel(), step));
    return;
  }
  ops::dispatch_float("SGD", weight, [&]<class T>() {
    kernels::cpu::sgd_update(weight.data<T>(), velocity.defined() ? velocity.data<T>() : nullptr, grad.data<T>(),
                             weight.numel(), step);
  });
}

}  // namespace kiln::optim
