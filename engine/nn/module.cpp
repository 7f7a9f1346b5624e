#include "kiln/nn/module.h"

#include <algorithm>

namespace kiln::nn {

std::vector<NamedParameter> Module::named_parameters() const {
  // Own entries first, then each child's under its prefix, as torch.nn.Module lists them.
  std::vector<NamedParameter> named;
  for (const auto& parameter : parameters_) named.push_back(*parameter);
  for (const auto& [child_name, child] : children_) {
    for (NamedParameter& parameter : child->named_parameters()) {
      parameter.name = child_name + "." + parameter.name;
      named.push_back(std::move(parameter));
    }
  }
  return named;
}

std::vector<NamedBuffer> Module::named_buffers() const {
  std::vector<NamedBuffer> named;
  for (const auto& buffer : buffers_) named.push_back(*buffer);
  for (const auto& [child_name, child] : children_) {
    for (NamedBuffer& buffer : child->named_buffers()) {
      buffer.name = child_name + "." + buffer.name;
      named.push_back(std::move(buffer));
    }
  }
  return named;
}

std::vector<NamedGenerator> Module::named_generators() const {
  std::vector<NamedGenerator> named = generators_;
  for (const auto& [child_name, child] : children_) {
    for (NamedGenerator& generator : child->named_generators()) {
      generator.name = child_name + "." + generator.name;
      named.push_back(std::move(generator));
    }
  }
  return named;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> tensors;
  for (const NamedParameter& parameter : named_parameters()) tensors.push_back(parameter.tensor);
  return tensors;
}

std::int64_t Module::parameter_count() const {
  std::int64_t count = 0;
  for (const NamedParameter& parameter : named_parameters()) count += parameter.tensor.numel();
  return count;
}

void Module::apply(FunctionRef<void(Module&)> visit) {
  visit(*this);
  for (const auto& child : children_) child.second->apply(visit);
}

void Module::train(bool on) {
  training_ = on;
  on_train(on);
  for (const auto& child : children_) child.second->train(on);
}

void Module::to(Device device) {
  std::vector<Tensor> tensors = parameters();
  for (const NamedBuffer& buffer : named_buffers()) tensors.push_back(buffer.tensor);
  // Every copy is made before any storage is swapped, so a failed copy leaves the module where it was.
  std::vector<Tensor> moved, moved_grads;
  for (const Tensor& tensor : tensors) {
    moved.push_back(tensor.to(device));
    moved_grads.push_back(tensor.grad().defined() ? tensor.grad().to(device) : Tensor());
  }
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    TensorImpl& impl = *tensors[i].impl();
    impl.storage = moved[i].impl()->storage;
    impl.offset_bytes = moved[i].impl()->offset_bytes;
    impl.grad = moved_grads[i];
  }
}

void Module::zero_grad() {
  for (const NamedParameter& parameter : named_parameters()) parameter.tensor.zero_grad();
}

namespace {
// Names are unique across a module's parameters and buffers; dots would break the dotted paths.
template <class Parameters, class Buffers>
void check_new_name(const Parameters& parameters, const Buffers& buffers, const std::string& name) {
  KILN_CHECK(!name.empty() && name.find('.') == std::string::npos, "module: invalid parameter or buffer name '", name,
             "' (must be non-empty and without dots)");
  const auto same_name = [&name](const auto& entry) { return entry->name == name; };
  KILN_CHECK(std::none_of(parameters.begin(), parameters.end(), same_name) &&
                 std::none_of(buffers.begin(), buffers.end(), same_name),
             "module: the name '", name, "' is already registered");
}
}  // namespace

Tensor& Module::register_parameter(std::string name, Tensor tensor, ParameterKind kind) {
  check_new_name(parameters_, buffers_, name);
  KILN_CHECK(tensor.defined(), "module: parameter '", name, "' is undefined");
  tensor.set_requires_grad(true);
  parameters_.push_back(std::make_unique<NamedParameter>(NamedParameter{std::move(name), std::move(tensor), kind}));
  return parameters_.back()->tensor;
}

Tensor& Module::register_buffer(std::string name, Tensor tensor) {
  check_new_name(parameters_, buffers_, name);
  KILN_CHECK(tensor.defined(), "module: buffer '", name, "' is undefined");
  buffers_.push_back(std::make_unique<NamedBuffer>(NamedBuffer{std::move(name), std::move(tensor)}));
  return buffers_.back()->tensor;
}

void Module::register_generator(std::string name, Generator& generator) {
  for (const NamedGenerator& known : generators_) {
    KILN_CHECK(known.name != name, "module: generator '", name, "' is registered twice");
  }
  generators_.push_back({std::move(name), &generator});
}

}  // namespace kiln::nn
