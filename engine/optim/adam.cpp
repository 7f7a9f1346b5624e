#include "kiln/optim/adam.h"

#include <cmath>
#include <span>

#include "engine/ops/dispatch.h"
#include "engine/optim/slot_tables.h"
#include "kernels/optimizer.h"

namespace kiln::optim {

struct Adam::Slots : SlotTables<kernels::AdamSlot> {};

Adam::Adam(std::vector<nn::NamedParameter> parameters, ExponentialDecay schedule, L2Options l2, AdamOptions options)
    : Optimizer(std::move(parameters), schedule, l2), options_(options), slots_(std::make_unique<Slots>()) {
  const OpScope op_scope("Adam");
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

Adam::~Adam() = default;

std::vector<nn::NamedBuffer> Adam::state() const {
  std::vector<nn::NamedBuffer> named;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    named.push_back({"exp_avg." + parameters_[i].name, exp_avg_[i]});
    named.push_back({"exp_avg_sq." + parameters_[i].name, exp_avg_sq_[i]});
  }
  return named;
}

void Adam::update(std::span<const Gradient> group, double lr) {
  const OpScope op_scope("Adam");
  const double t = static_cast<double>(step_ + 1);
  const kernels::AdamStep step{options_.beta1, options_.beta2, options_.eps, lr / (1 - std::pow(options_.beta1, t)),
                               1 / std::sqrt(1 - std::pow(options_.beta2, t))};
  const auto table = [&]<class T>() -> std::vector<kernels::AdamSlot<T>>& {
    std::vector<kernels::AdamSlot<T>>& slots = slots_->template cleared<T>();
    for (const Gradient& gradient : group) {
      const Tensor& weight = parameters_[gradient.index].tensor;
      slots.push_back({weight.data<T>(), exp_avg_[gradient.index].data<T>(), exp_avg_sq_[gradient.index].data<T>(),
                       gradient.grad.data<T>(), weight.numel(), gradient.l2});
    }
    return slots;
  };
  const Tensor& first = parameters_[group.front().index].tensor;
  if (ops::on_cuda("Adam", first)) {
    [[maybe_unused]] std::vector<kernels::AdamSlot<float>>& slots = table.template operator()<float>();
    KILN_CUDA_KERNEL_CALL(kernels::cuda::adam_update(
        slots, device_table<kernels::AdamSlot<float>>(first.device(), slots.size()), step));
    return;
  }
  ops::dispatch_float("Adam", first,
                      [&]<class T>() { kernels::cpu::adam_update<T>(table.template operator()<T>(), step); });
}

}  // namespace kiln::optim
