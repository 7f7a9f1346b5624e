#include "tests/cuda/parity.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "kiln/autograd.h"
#include "kiln/ops.h"

#if KILN_CUDA_EMULATED
#include "kernels/simt/emulator.h"
#endif

namespace kiln::testing {

Tensor parity_input(const Shape& shape, std::uint64_t seed, double low, double high) {
  Generator generator(seed);
  Tensor tensor = Tensor::uniform(shape, low, high, generator);
  tensor.set_requires_grad(true);
  return tensor;
}

void expect_parity(const std::string& what, const Tensor& cuda_result, const Tensor& cpu_result,
                   const ParityOptions& options) {
  INFO(what << ": cuda " << describe(cuda_result) << " vs cpu " << describe(cpu_result));
  REQUIRE(cuda_result.defined());
  REQUIRE(cuda_result.shape() == cpu_result.shape());
  const std::vector<double> gpu = cuda_result.to_vector_f64(), cpu = cpu_result.to_vector_f64();
  double scale = 0, worst = 0;
  std::size_t worst_index = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    scale = std::max(scale, std::abs(cpu[i]));
    if (!(std::abs(gpu[i] - cpu[i]) <= worst)) worst = std::abs(gpu[i] - cpu[i]), worst_index = i;
  }
  INFO("largest difference " << worst << " at element " << worst_index << " (scale " << scale << ")");
  CHECK(worst <= options.rtol * scale + options.atol);
}

namespace {
std::vector<Tensor> leaves_on(const std::vector<Tensor>& inputs, Device device) {
  std::vector<Tensor> copies;
  for (const Tensor& input : inputs) {
    if (!input.defined()) {
      copies.emplace_back();
      continue;
    }
    Tensor copy = input.detach().to(device);
    if (copy.same(input)) copy = input.detach().clone();
    if (input.requires_grad()) copy.set_requires_grad(true);
    copies.push_back(copy);
  }
  return copies;
}
}  // namespace

namespace {

void check_parity_once(const std::string& name, const DeviceFunction& f, const std::vector<Tensor>& inputs,
                       const ParityOptions& options) {
  const std::vector<Tensor> cpu_inputs = leaves_on(inputs, Device::cpu());
  const std::vector<Tensor> cuda_inputs = leaves_on(inputs, Device::cuda(0));
  const Tensor cpu_output = f(cpu_inputs);
  const Tensor cuda_output = f(cuda_inputs);
  REQUIRE(cuda_output.device().is_cuda());
  expect_parity(name + " output", cuda_output, cpu_output, options);
  if (!cpu_output.requires_grad()) return;
  Generator generator(4242);
  const Tensor upstream = Tensor::randn(cpu_output.shape(), generator);
  sum(mul(cpu_output, upstream)).backward();
  sum(mul(cuda_output, upstream.to(Device::cuda(0)))).backward();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    expect_parity(name + " gradient of input " + std::to_string(i), cuda_inputs[i].grad(), cpu_inputs[i].grad(),
                  options);
  }
}

}  // namespace

void check_parity(const std::string& name, const DeviceFunction& f, const std::vector<Tensor>& inputs,
                  const ParityOptions& options) {
#if KILN_CUDA_EMULATED
  // Kernels must not depend on the order in which threads run: each check runs three times.
  const simt::Options saved = simt::options();
  for (const simt::Order order : {simt::Order::forward, simt::Order::reverse, simt::Order::random}) {
    simt::Options run = saved;
    run.order = order;
    simt::set_options(run);
    INFO("SIMT thread order " << static_cast<int>(order) << " (0 forward, 1 reverse, 2 random)");
    check_parity_once(name, f, inputs, options);
  }
  simt::set_options(saved);
#else
  check_parity_once(name, f, inputs, options);
#endif
}

}  // namespace kiln::testing
