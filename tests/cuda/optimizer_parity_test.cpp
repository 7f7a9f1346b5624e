#include <catch2/catch.hpp>

#include "kernels/multi_tensor.h"
#include "kernels/simt/launch_count.h"
#include "kiln/kiln.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::expect_parity;

namespace {

using Factory = std::function<std::unique_ptr<optim::Optimizer>(std::vector<nn::NamedParameter>)>;

// Odd sizes: one element, one over a chunk (so two blocks share a parameter), the rest small; L2 applies to the
// weights, not to the bias or the norm parameters; "frozen" gets no gradient and must stay as it is.
struct ParameterCase {
  std::string name;
  Shape shape;
  nn::ParameterKind kind;
  bool has_gradient;
};
const std::vector<ParameterCase> parameter_cases = {
    {"conv.weight", {37, 5}, nn::ParameterKind::weight, true},
    {"conv.bias", {1}, nn::ParameterKind::bias, true},
    {"frozen.weight", {3, 7}, nn::ParameterKind::weight, false},
    {"big.weight", {kernels::chunk_elements + 77}, nn::ParameterKind::weight, true},
    {"bn.weight", {9}, nn::ParameterKind::norm, true},
    {"fc.weight", {2, 3, 5}, nn::ParameterKind::weight, true},
};
constexpr int steps = 3;

struct Run {
  std::vector<Tensor> initial;                  // the parameters before the first step (CPU copies)
  std::vector<Tensor> parameters;               // after the last step
  std::vector<nn::NamedBuffer> state;           // the optimiser's state after the last step
  std::vector<std::uint64_t> launches;          // kernel launches per step
  std::vector<std::size_t> device_allocations;  // the CUDA allocator's cudaMalloc count after each step
};

// `steps` steps of one optimiser over the parameter cases `chosen` (all when empty) on `device`. Every case's values
// and gradients are drawn from one seeded generator in the same order, whatever is chosen and wherever it runs. The
// gradients are on the device before the first step, so that a step's own allocations show.
Run run_optimizer(const Factory& make, Device device, const std::vector<std::size_t>& chosen = {}) {
  Generator generator(11);
  std::vector<Tensor> values;
  std::vector<std::vector<Tensor>> gradients;  // [case][step]
  for (const ParameterCase& parameter : parameter_cases) {
    values.push_back(Tensor::randn(parameter.shape, generator));
    gradients.emplace_back();
    for (int step = 0; step < steps; ++step) gradients.back().push_back(Tensor::randn(parameter.shape, generator));
  }
  std::vector<std::size_t> cases = chosen;
  if (cases.empty()) {
    for (std::size_t p = 0; p < parameter_cases.size(); ++p) cases.push_back(p);
  }
  Run run;
  std::vector<nn::NamedParameter> named;
  for (const std::size_t p : cases) {
    run.initial.push_back(values[p]);
    Tensor tensor = values[p].to(device).clone();
    tensor.set_requires_grad(true);
    named.push_back({parameter_cases[p].name, tensor, parameter_cases[p].kind});
    for (Tensor& gradient : gradients[p]) gradient = gradient.to(device);
  }
  std::unique_ptr<optim::Optimizer> optimizer = make(named);
  for (int step = 0; step < steps; ++step) {
    for (std::size_t i = 0; i < cases.size(); ++i) {
      if (parameter_cases[cases[i]].has_gradient) named[i].tensor.set_grad(gradients[cases[i]][step]);
    }
    const std::uint64_t launches_before = simt::launch_count;
    optimizer->step();
    run.launches.push_back(simt::launch_count - launches_before);
    run.device_allocations.push_back(cuda_memory_stats(0).device_allocations);
  }
  for (const nn::NamedParameter& parameter : named) run.parameters.push_back(parameter.tensor);
  run.state = optimizer->state();
  return run;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.to(Device::cpu()).to_vector() == b.to(Device::cpu()).to_vector();
}

const optim::L2Options l2{1e-2, false, false};
const std::vector<std::pair<std::string, Factory>> optimizers = {
    {"Adam",
     [](std::vector<nn::NamedParameter> p) {
       return std::make_unique<optim::Adam>(std::move(p), optim::ExponentialDecay{1e-2}, l2);
     }},
    {"SGD Nesterov",
     [](std::vector<nn::NamedParameter> p) {
       return std::make_unique<optim::SGD>(std::move(p), optim::ExponentialDecay{5e-2}, l2,
                                           optim::SgdOptions{0.9, true});
     }},
    {"SGD momentum",
     [](std::vector<nn::NamedParameter> p) {
       return std::make_unique<optim::SGD>(std::move(p), optim::ExponentialDecay{5e-2}, l2,
                                           optim::SgdOptions{0.9, false});
     }},
    {"SGD plain",
     [](std::vector<nn::NamedParameter> p) {
       return std::make_unique<optim::SGD>(std::move(p), optim::ExponentialDecay{5e-2}, l2);
     }},
};

}  // namespace

TEST_CASE("parity native: Adam and SGD fused updates over parameters of odd sizes", "[parity]") {
  for (const auto& [label, make] : optimizers) {
    INFO(label);
    const Run cpu = run_optimizer(make, Device::cpu());
    const Run cuda = run_optimizer(make, Device::cuda(0));
    for (std::size_t p = 0; p < parameter_cases.size(); ++p) {
      expect_parity(label + " " + parameter_cases[p].name, cuda.parameters[p], cpu.parameters[p]);
    }
    REQUIRE(cuda.state.size() == cpu.state.size());
    for (std::size_t s = 0; s < cpu.state.size(); ++s) {
      expect_parity(label + " " + cpu.state[s].name, cuda.state[s].tensor, cpu.state[s].tensor);
    }
    // The parameter without a gradient, and its state, are left exactly as they were on both devices.
    const std::size_t frozen = 2;
    CHECK(same_bits(cpu.parameters[frozen], cpu.initial[frozen]));
    CHECK(same_bits(cuda.parameters[frozen], cuda.initial[frozen]));
    for (const nn::NamedBuffer& buffer : cuda.state) {
      if (buffer.name.ends_with("." + parameter_cases[frozen].name)) {
        CHECK(same_bits(buffer.tensor, Tensor::zeros(buffer.tensor.shape())));
      }
    }
  }
}

TEST_CASE("parity native: a fused update matches per-parameter updates on the device bit for bit", "[parity]") {
  // The chunk table maps each block to the right parameter and range: one optimiser over all the parameters gives the
  // same bits as one optimiser per parameter (which runs the same element arithmetic).
  for (const auto& [label, make] : optimizers) {
    INFO(label);
    const Run fused = run_optimizer(make, Device::cuda(0));
    for (std::size_t p = 0; p < parameter_cases.size(); ++p) {
      INFO(parameter_cases[p].name);
      const Run alone = run_optimizer(make, Device::cuda(0), {p});
      CHECK(same_bits(alone.parameters[0], fused.parameters[p]));
    }
  }
}

TEST_CASE("parity native: an optimiser step is one kernel launch per device and allocates nothing after the first",
          "[parity]") {
  for (const auto& [label, make] : optimizers) {
    INFO(label);
    const Run cuda = run_optimizer(make, Device::cuda(0));
    for (int step = 0; step < steps; ++step) CHECK(cuda.launches[static_cast<std::size_t>(step)] == 1);
    for (int step = 1; step < steps; ++step) {
      CHECK(cuda.device_allocations[static_cast<std::size_t>(step)] == cuda.device_allocations[0]);
    }
    const Run cpu = run_optimizer(make, Device::cpu());
    for (int step = 0; step < steps; ++step) CHECK(cpu.launches[static_cast<std::size_t>(step)] == 0);
  }

  // Parameters on the CPU and on cuda:0 in one optimiser: one launch for the CUDA ones, the CPU ones updated too.
  Tensor on_cpu = Tensor::ones({4}), on_cuda = Tensor::ones({4}).to(Device::cuda(0));
  on_cpu.set_requires_grad(true);
  on_cuda.set_requires_grad(true);
  optim::SGD sgd({{"cpu", on_cpu}, {"cuda", on_cuda}}, optim::ExponentialDecay{0.5});
  on_cpu.set_grad(Tensor::ones({4}));
  on_cuda.set_grad(Tensor::ones({4}).to(Device::cuda(0)));
  const std::uint64_t before = simt::launch_count;
  sgd.step();
  CHECK(simt::launch_count - before == 1);
  CHECK(on_cpu.to_vector() == std::vector<float>(4, 0.5f));
  CHECK(on_cuda.to(Device::cpu()).to_vector() == std::vector<float>(4, 0.5f));
}
