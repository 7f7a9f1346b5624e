#include "kiln/optim/sgd.h"

#include <span>

#include "engine/ops/dispatch.h"
#include "engine/optim/slot_tables.h"
#include "kernels/optimizer.h"

namespace kiln::optim {

struct SGD::Slots : SlotTables<kernels::SgdSlot> {};

SGD::SGD(std::vector<nn::NamedParameter> parameters, ExponentialDecay schedule, L2Options l2, SgdOptions options)
    : Optimizer(std::move(parameters), schedule, l2), options_(options), slots_(std::make_unique<Slots>()) {
  const OpScope op_scope("SGD");
  KILN_CHECK(options_.momentum >= 0, "SGD: momentum must not be negative, got ", options_.momentum);
  KILN_CHECK(!options_.nesterov || options_.momentum > 0, "SGD: Nesterov momentum needs momentum > 0");
  if (options_.momentum == 0) return;  // plain SGD keeps no state
  // With a zero buffer, the first update v = momentum * 0 + g sets v = g as torch.optim.SGD does.
  for (const nn::NamedParameter& parameter : parameters_) {
    const Tensor& weight = parameter.tensor;
    velocity_.push_back(Tensor::zeros(weight.shape(), weight.dtype(), weight.device()));
  }
}

SGD::~SGD() = default;

std::vector<nn::NamedBuffer> SGD::state() const {
  std::vector<nn::NamedBuffer> named;
  for (std::size_t i = 0; i < velocity_.size(); ++i) {
    named.push_back({"momentum_buffer." + parameters_[i].name, velocity_[i]});
  }
  return named;
}

void SGD::update(std::span<const Gradient> group, double lr) {
  const OpScope op_scope("SGD");
  const kernels::SgdStep step{lr, options_.momentum, options_.nesterov};
  const auto table = [&]<class T>() -> std::vector<kernels::SgdSlot<T>>& {
    std::vector<kernels::SgdSlot<T>>& slots = slots_->template cleared<T>();
    for (const Gradient& gradient : group) {
      const Tensor& weight = parameters_[gradient.index].tensor;
      T* velocity = velocity_.empty() ? nullptr : velocity_[gradient.index].data<T>();
      slots.push_back({weight.data<T>(), velocity, gradient.grad.data<T>(), weight.numel(), gradient.l2});
    }
    return slots;
  };
  const Tensor& first = parameters_[group.front().index].tensor;
  if (ops::on_cuda("SGD", first)) {
    [[maybe_unused]] std::vector<kernels::SgdSlot<float>>& slots = table.template operator()<float>();
    KILN_CUDA_KERNEL_CALL(kernels::cuda::sgd_update(
        slots, device_table<kernels::SgdSlot<float>>(first.device(), slots.size()), step));
    return;
  }
  ops::dispatch_float("SGD", first,
                      [&]<class T>() { kernels::cpu::sgd_update<T>(table.template operator()<T>(), step); });
}

}  // namespace kiln::optim
