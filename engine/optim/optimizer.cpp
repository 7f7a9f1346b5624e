#include "kiln/optim/optimizer.h"

#include <algorithm>
#include <set>

#include "base/allocator.h"
#include "kiln/autograd.h"
#include "kiln/ops/elementwise.h"
#include "kiln/ops/reduce.h"

namespace kiln::optim {

bool L2Options::applies_to(nn::ParameterKind kind) const {
  switch (kind) {
    case nn::ParameterKind::weight: return true;
    case nn::ParameterKind::bias: return include_biases;
    case nn::ParameterKind::norm: return include_norm;
  }
  return false;
}

Tensor l2_penalty(const std::vector<nn::NamedParameter>& parameters, const L2Options& options) {
  Tensor squares;
  for (const nn::NamedParameter& parameter : parameters) {
    if (!options.applies_to(parameter.kind)) continue;
    const Tensor term = sum(mul(parameter.tensor, parameter.tensor));
    squares = squares.defined() ? add(squares, term) : term;
  }
  if (!squares.defined()) return Tensor::scalar(0.0);
  return scale(squares, options.lambda / 2);
}

Optimizer::Optimizer(std::vector<nn::NamedParameter> parameters, ExponentialDecay schedule, L2Options l2)
    : parameters_(std::move(parameters)), schedule_(schedule), l2_(l2) {
  std::set<std::string> names;
  for (const nn::NamedParameter& parameter : parameters_) {
    KILN_CHECK(parameter.tensor.defined(), "optimizer: parameter '", parameter.name, "' is undefined");
    KILN_CHECK(parameter.tensor.dtype() != DType::i32, "optimizer: parameter '", parameter.name, "' is ",
               describe(parameter.tensor), "; only float tensors can be trained");
    KILN_CHECK(names.insert(parameter.name).second, "optimizer: parameter name '", parameter.name,
               "' appears twice");
  }
}

Optimizer::~Optimizer() {
  for (const TableBlock& table : tables_) cached_release(table.memory, table.device);
}

void Optimizer::step() {
  NoGradGuard no_grad;
  const double lr = schedule_.at(step_);
  // Every gradient is checked before any parameter changes.
  gradients_.clear();
  for (std::size_t index = 0; index < parameters_.size(); ++index) {
    const nn::NamedParameter& parameter = parameters_[index];
    const Tensor& weight = parameter.tensor;
    Tensor grad = weight.grad();
    if (!grad.defined()) continue;
    KILN_CHECK(grad.dtype() == weight.dtype() && grad.device() == weight.device(), "optimizer: gradient ",
               describe(grad), " of parameter '", parameter.name, "' does not match ", describe(weight));
    gradients_.push_back({index, std::move(grad), l2_.applies_to(parameter.kind) ? l2_.lambda : 0.0});
  }
  // One update per device and dtype: each group is gathered in place, in parameter order, before the rest.
  for (auto begin = gradients_.begin(); begin != gradients_.end();) {
    const Tensor& first = parameters_[begin->index].tensor;
    auto end = std::next(begin);
    for (auto next = end; next != gradients_.end(); ++next) {
      const Tensor& weight = parameters_[next->index].tensor;
      if (weight.device() == first.device() && weight.dtype() == first.dtype()) std::rotate(end++, next, next + 1);
    }
    update(std::span<const Gradient>(begin, end), lr);
    begin = end;
  }
  gradients_.clear();  // the gradients belong to the parameters: none is held past the step
  ++step_;
}

void* Optimizer::device_table_bytes(Device device, std::size_t bytes) {
  auto table = std::find_if(tables_.begin(), tables_.end(), [&](const TableBlock& t) { return t.device == device; });
  if (table != tables_.end() && table->bytes >= bytes) return table->memory;
  void* memory = cached_allocate(bytes, device);
  if (table == tables_.end()) {
    tables_.push_back({device, memory, bytes});
    return memory;
  }
  // A queued launch may still read the old table: whatever the allocator hands it to next is queued after it.
  cached_release(table->memory, device);
  *table = {device, memory, bytes};
  return memory;
}

void Optimizer::zero_grad() {
  for (const nn::NamedParameter& parameter : parameters_) parameter.tensor.zero_grad();
}

void Optimizer::load_state(const std::vector<nn::NamedBuffer>& state, std::int64_t step) {
  KILN_CHECK(step >= 0, "optimizer: load_state with a negative step count ", step);
  const std::vector<nn::NamedBuffer> current = this->state();
  // All checks run before any copy, so a rejected state leaves the optimiser as it was.
  std::vector<const Tensor*> sources(current.size(), nullptr);
  for (const nn::NamedBuffer& given : state) {
    std::size_t slot = 0;
    while (slot < current.size() && current[slot].name != given.name) ++slot;
    KILN_CHECK(slot < current.size(), "optimizer: load_state got unexpected state tensor '", given.name, "'");
    KILN_CHECK(given.tensor.defined() && given.tensor.shape() == current[slot].tensor.shape(),
               "optimizer: state tensor '", given.name, "' is ", describe(given.tensor), ", expected shape ",
               shape_str(current[slot].tensor.shape()));
    sources[slot] = &given.tensor;
  }
  for (std::size_t slot = 0; slot < current.size(); ++slot) {
    KILN_CHECK(sources[slot] != nullptr, "optimizer: load_state is missing state tensor '", current[slot].name, "'");
  }
  for (std::size_t slot = 0; slot < current.size(); ++slot) {
    Tensor destination = current[slot].tensor;
    destination.copy_from(sources[slot]->to(destination.dtype()));
  }
  step_ = step;
}

}  // namespace kiln::optim
