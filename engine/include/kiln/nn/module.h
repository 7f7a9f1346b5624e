#pragma once
// Modules: layers that own parameters (trainable leaves) and buffers (running statistics), named with dots as PyTorch
// names them ("features.0.weight").
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kiln/function_ref.h"
#include "kiln/tensor.h"

namespace kiln::nn {

// What a parameter is, so that L2 regularisation and similar rules can include or exclude it.
enum class ParameterKind { weight, bias, norm };

struct NamedParameter {
  std::string name;
  Tensor tensor;
  ParameterKind kind = ParameterKind::weight;
};

struct NamedBuffer {
  std::string name;
  Tensor tensor;
};

// A random stream a module draws from while it trains (dropout masks): checkpoints save it by name so that a resumed
// run draws what an uninterrupted one would.
struct NamedGenerator {
  std::string name;
  Generator* generator;
};

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& input) = 0;
  Tensor operator()(const Tensor& input) { return forward(input); }

  // Recursive, in registration order, with dotted names.
  std::vector<NamedParameter> named_parameters() const;
  std::vector<NamedBuffer> named_buffers() const;
  std::vector<NamedGenerator> named_generators() const;
  std::vector<Tensor> parameters() const;
  std::int64_t parameter_count() const;  // trainable elements

  // Calls `visit` on this module, then on every descendant in registration order (to reach layers of one kind).
  void apply(FunctionRef<void(Module&)> visit);

  // Training switches dropout and batch-norm statistics; set recursively.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Moves parameters and buffers in place (their storage is swapped), so every handle to them sees the new device.
  void to(Device device);
  void zero_grad();

 protected:
  Tensor& register_parameter(std::string name, Tensor tensor, ParameterKind kind = ParameterKind::weight);
  Tensor& register_buffer(std::string name, Tensor tensor);
  // `generator` must live as long as the module (a member of it).
  void register_generator(std::string name, Generator& generator);
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    children_.emplace_back(std::move(name), module);
    return module;
  }
  virtual void on_train(bool) {}

 private:
  // Parameters and buffers are held by pointer-stable storage so that register_* can return references.
  std::vector<std::unique_ptr<NamedParameter>> parameters_;
  std::vector<std::unique_ptr<NamedBuffer>> buffers_;
  std::vector<NamedGenerator> generators_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace kiln::nn
