#pragma once
// A chain of modules named "0", "1", ... (as torch.nn.Sequential).
#include <memory>
#include <vector>

#include "kiln/nn/module.h"

namespace kiln::nn {

class Sequential : public Module {
 public:
  Sequential() = default;
  template <class M>
  std::shared_ptr<M> add(std::shared_ptr<M> module) {
    layers_.push_back(module);
    return register_module(std::to_string(layers_.size() - 1), std::move(module));
  }
  Tensor forward(const Tensor& input) override;
  std::size_t size() const { return layers_.size(); }
  const std::shared_ptr<Module>& operator[](std::size_t index) const { return layers_.at(index); }

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace kiln::nn
