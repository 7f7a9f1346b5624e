#include <catch2/catch.hpp>

#include "kiln/kiln.h"
#include "kiln/models/registry.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::expect_parity;

// A whole training step (forward, cross-entropy, backward, SGD with momentum and L2) of fmnist-bn, which has every
// layer kind of the small nets (conv, batch norm, relu, max pool, linear, dropout), on the CPU and on cuda:0 from the
// same initial weights: the loss, every updated parameter and the running statistics must agree. (Not Adam: the
// biases before batch norm have gradients that are rounding noise, which Adam's g/sqrt(v) turns into full steps.)
TEST_CASE("parity native: one training step of fmnist-bn", "[parity]") {
  Generator data_generator(5);
  const Tensor images = Tensor::uniform({4, 1, 28, 28}, 0, 1, data_generator);
  const Tensor labels = Tensor::from_vector(std::vector<std::int32_t>{3, 0, 9, 3}, {4});
  std::vector<std::shared_ptr<nn::Module>> models;
  std::vector<double> losses;
  for (const Device device : {Device::cpu(), Device::cuda(0)}) {
    Generator init(7);
    auto model = models::make_model("fmnist-bn", init);
    model->to(device);
    model->train();
    optim::SGD optimizer(model->named_parameters(), optim::ExponentialDecay{0.1}, optim::L2Options{1e-3},
                         optim::SgdOptions{0.9});
    const Tensor loss = cross_entropy(model->forward(images.to(device)), labels.to(device));
    loss.backward();
    optimizer.step();
    losses.push_back(loss.item());
    models.push_back(model);
  }
  CHECK(losses[1] == Approx(losses[0]).epsilon(1e-4));
  const auto cpu_parameters = models[0]->named_parameters(), cuda_parameters = models[1]->named_parameters();
  REQUIRE(cpu_parameters.size() == cuda_parameters.size());
  for (std::size_t i = 0; i < cpu_parameters.size(); ++i) {
    expect_parity(cpu_parameters[i].name, cuda_parameters[i].tensor, cpu_parameters[i].tensor);
  }
  const auto cpu_buffers = models[0]->named_buffers(), cuda_buffers = models[1]->named_buffers();
  for (std::size_t i = 0; i < cpu_buffers.size(); ++i) {
    expect_parity(cpu_buffers[i].name, cuda_buffers[i].tensor, cpu_buffers[i].tensor);
  }
}
