#include <catch2/catch.hpp>

#include "kiln/kiln.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::expect_parity;

namespace {

// Three steps of the same optimiser on CPU and CUDA copies of a weight and a bias, with the same gradients.
template <class Make>
void check_optimizer(const std::string& name, Make make) {
  Generator generator(11);
  const Tensor weight = Tensor::randn({37, 5}, generator), bias = Tensor::randn({37}, generator);
  std::vector<Tensor> gradients;
  for (int step = 0; step < 3; ++step) {
    gradients.push_back(Tensor::randn({37, 5}, generator));
    gradients.push_back(Tensor::randn({37}, generator));
  }
  std::vector<std::vector<Tensor>> results;
  for (const Device device : {Device::cpu(), Device::cuda(0)}) {
    Tensor w = weight.to(device).clone(), b = bias.to(device).clone();
    w.set_requires_grad(true);
    b.set_requires_grad(true);
    auto optimizer = make(std::vector<nn::NamedParameter>{{"w", w, nn::ParameterKind::weight},
                                                          {"b", b, nn::ParameterKind::bias}});
    for (int step = 0; step < 3; ++step) {
      w.set_grad(gradients[2 * step].to(device));
      b.set_grad(gradients[2 * step + 1].to(device));
      optimizer->step();
    }
    results.push_back({w, b});
  }
  expect_parity(name + " weight", results[1][0], results[0][0]);
  expect_parity(name + " bias", results[1][1], results[0][1]);
}

}  // namespace

TEST_CASE("parity native: Adam and SGD updates", "[parity]") {
  const optim::L2Options l2{1e-2, false, false};
  check_optimizer("Adam", [&](std::vector<nn::NamedParameter> parameters) {
    return std::make_unique<optim::Adam>(std::move(parameters), optim::ExponentialDecay{1e-2}, l2);
  });
  check_optimizer("SGD momentum", [&](std::vector<nn::NamedParameter> parameters) {
    return std::make_unique<optim::SGD>(std::move(parameters), optim::ExponentialDecay{5e-2}, l2,
                                        optim::SgdOptions{0.9, true});
  });
  check_optimizer("SGD plain", [&](std::vector<nn::NamedParameter> parameters) {
    return std::make_unique<optim::SGD>(std::move(parameters), optim::ExponentialDecay{5e-2}, l2);
  });
}
