#include "tests/cuda/op_cases.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "kiln/kiln.h"
#include "kiln/models/registry.h"
#include "tests/cuda/parity.h"

namespace kiln::testing {
namespace {

void check_conv2d(const std::string& name, const Shape& x, const Shape& weight, bool bias,
                  const Conv2dOptions& options) {
  check_parity("conv2d " + name, [&](auto& in) { return conv2d(in[0], in[1], in[2], options); },
               {parity_input(x, 1), parity_input(weight, 2), bias ? parity_input({weight[0]}, 3) : Tensor()});
}

const char* mode_name(BatchNormMode mode) {
  switch (mode) {
    case BatchNormMode::train: return "train";
    case BatchNormMode::eval: return "eval";
    case BatchNormMode::frozen: return "frozen";
  }
  return "?";
}

// x, gamma, beta (requiring gradients), running_mean, running_var (buffers, variance positive).
std::vector<Tensor> batch_norm_inputs(const Shape& shape, std::uint64_t seed) {
  const std::int64_t channels = shape[1];
  return {parity_input(shape, seed, -2.0, 3.0), parity_input({channels}, seed + 1, 0.5, 1.5),
          parity_input({channels}, seed + 2), parity_input({channels}, seed + 3, -0.5, 0.5).detach(),
          parity_input({channels}, seed + 4, 0.5, 2.0).detach()};
}

DeviceFunction batch_norm_in(BatchNormMode mode) {
  BatchNormOptions options;
  options.mode = mode;
  return [options](auto& in) { return batch_norm(in[0], in[1], in[2], in[3], in[4], options); };
}

// batch_norm on x of `shape` in `mode`, CUDA against the CPU: the output and the gradients of x, gamma and beta, then
// the running statistics after one call on fresh copies of them.
void check_batch_norm(const Shape& shape, BatchNormMode mode, std::uint64_t seed) {
  const std::string name = "batch_norm " + std::string(mode_name(mode)) + " " + shape_str(shape);
  const std::vector<Tensor> in = batch_norm_inputs(shape, seed);
  check_parity(name, batch_norm_in(mode), in);

  const Device cuda = Device::cuda(0);
  const Tensor cpu_mean = in[3].clone(), cpu_var = in[4].clone();
  const Tensor cuda_mean = in[3].to(cuda), cuda_var = in[4].to(cuda);
  BatchNormOptions options;
  options.mode = mode;
  batch_norm(in[0].detach(), in[1].detach(), in[2].detach(), cpu_mean, cpu_var, options);
  batch_norm(in[0].detach().to(cuda), in[1].detach().to(cuda), in[2].detach().to(cuda), cuda_mean, cuda_var, options);
  expect_parity(name + " running mean", cuda_mean, cpu_mean);
  expect_parity(name + " running var", cuda_var, cpu_var);
  if (mode != BatchNormMode::train) {
    CHECK(cuda_mean.to_vector() == in[3].to_vector());
    CHECK(cuda_var.to_vector() == in[4].to_vector());
  }
}

}  // namespace

void conv2d_parity_cases() {
  check_conv2d("3x3 same, batch 1", {1, 3, 9, 11}, {5, 3, 3, 3}, true, Conv2dOptions::square(1, 1));
  check_conv2d("3x5 stride 2, padding (1, 2)", {3, 4, 11, 13}, {7, 4, 3, 5}, false, {2, 2, 1, 2});
  check_conv2d("4x3 stride (2, 3), padding (0, 1)", {2, 3, 10, 12}, {4, 3, 4, 3}, true, {2, 3, 0, 1});
  check_conv2d("1x1", {3, 6, 7, 5}, {9, 6, 1, 1}, true, {});
  check_conv2d("1x1 stride 2 (taps skip pixels)", {3, 6, 7, 5}, {9, 6, 1, 1}, false, Conv2dOptions::square(2, 0));
  check_conv2d("70 output channels (two row tiles)", {1, 3, 6, 6}, {70, 3, 3, 3}, true, Conv2dOptions::square(1, 1));
  check_conv2d("66 input channels (two backward-data row tiles)", {1, 66, 5, 5}, {2, 66, 3, 3}, false,
               Conv2dOptions::square(1, 1));
  // 429 output pixels: the weight gradient is summed over two chunks.
  check_conv2d("weight gradient in chunks", {3, 2, 11, 13}, {3, 2, 3, 3}, true, Conv2dOptions::square(1, 1));
}

void batch_norm_parity_cases() {
  for (const BatchNormMode mode : {BatchNormMode::train, BatchNormMode::eval, BatchNormMode::frozen}) {
    check_batch_norm({3, 4, 5, 7}, mode, 10);
    check_batch_norm({6, 5}, mode, 20);
  }
  check_batch_norm({1, 3, 4, 4}, BatchNormMode::train, 30);

  // Gradients the kernels skip: dx alone in eval mode (no reduction at all), dgamma and dbeta alone in train mode
  // (no dx pass). Each check_parity costs ~0.1 s under emulation, so these run once rather than per mode and shape.
  const std::vector<Tensor> in = batch_norm_inputs({6, 5}, 40);
  check_parity("batch_norm eval [6, 5] dx only", batch_norm_in(BatchNormMode::eval),
               {in[0], in[1].detach(), in[2].detach(), in[3], in[4]});
  check_parity("batch_norm train [6, 5] dgamma, dbeta only", batch_norm_in(BatchNormMode::train),
               {in[0].detach(), in[1], in[2], in[3], in[4]});
}

void linear_parity_cases() {
  const auto linear_of = [](auto& in) { return linear(in[0], in[1], in[2]); };
  check_parity("linear odd", linear_of, {parity_input({5, 67}, 1), parity_input({45, 67}, 2), parity_input({45}, 3)});
  check_parity("linear aligned", linear_of,
               {parity_input({3, 128}, 4), parity_input({64, 128}, 5), parity_input({64}, 6)});
  check_parity("linear batch 1, no bias", linear_of, {parity_input({1, 9}, 7), parity_input({130, 9}, 8), Tensor()});
  check_parity("linear two tiles each way", linear_of,
               {parity_input({70, 33}, 9), parity_input({66, 33}, 10), parity_input({66}, 11)});
}

// A whole training step (forward, cross-entropy, backward, SGD with momentum and L2) of fmnist-bn, which has every
// layer kind of the small nets (conv, batch norm, relu, max pool, linear, dropout), on the CPU and on cuda:0 from the
// same initial weights: the loss, every updated parameter and the running statistics must agree. (Not Adam: the
// biases before batch norm have gradients that are rounding noise, which Adam's g/sqrt(v) turns into full steps.)
void training_step_parity() {
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

}  // namespace kiln::testing
