// The cuDNN and cuBLAS paths (KILN_CUDA builds, label gpu): the native parity cases again with the library selected,
// TF32 off giving float32 results, and deterministic mode giving bit-identical reruns.
#include <catch2/catch.hpp>
#include <cmath>

#include "kiln/backend.h"
#include "kiln/kiln.h"
#include "tests/cuda/op_cases.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::expect_parity;
using kiln::testing::parity_input;

namespace {

// Selects backends for one test and restores the previous settings after it.
class UseBackends {
 public:
  explicit UseBackends(const BackendSettings& settings) { set_backend_settings(settings); }
  ~UseBackends() { set_backend_settings(saved_); }
  UseBackends(const UseBackends&) = delete;
  UseBackends& operator=(const UseBackends&) = delete;

 private:
  BackendSettings saved_ = backend_settings();
};

constexpr BackendSettings all_libraries{ConvBackend::cudnn, BnBackend::cudnn, GemmBackend::cublas, false, false};

// f's output and its inputs' gradients on cuda:0 (the upstream gradient is fixed), as CPU tensors.
std::vector<Tensor> outputs_and_gradients(const testing::DeviceFunction& f, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> on_device;
  for (const Tensor& input : inputs) {
    Tensor copy = input.detach().to(Device::cuda(0));
    copy.set_requires_grad(input.requires_grad());
    on_device.push_back(copy);
  }
  const Tensor output = f(on_device);
  Generator generator(99);
  sum(mul(output, Tensor::randn(output.shape(), generator).to(Device::cuda(0)))).backward();
  std::vector<Tensor> results{output.detach().cpu()};
  for (const Tensor& input : on_device) {
    if (input.requires_grad()) results.push_back(input.grad().cpu());
  }
  return results;
}

// The output and the gradients of f on the CPU in float64 (the reference for TF32-off checks), as float32.
std::vector<Tensor> float64_reference(const testing::DeviceFunction& f, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> wide;
  for (const Tensor& input : inputs) {
    Tensor copy = input.detach().to(DType::f64);
    copy.set_requires_grad(input.requires_grad());
    wide.push_back(copy);
  }
  const Tensor output = f(wide);
  Generator generator(99);
  sum(mul(output, Tensor::randn(output.shape(), generator).to(DType::f64))).backward();
  std::vector<Tensor> results{output.detach().to(DType::f32)};
  for (const Tensor& input : wide) {
    if (input.requires_grad()) results.push_back(input.grad().to(DType::f32));
  }
  return results;
}

// Long dot products (2304 and 2048 terms), where TF32's 10-bit mantissa would show as ~1e-3 relative errors.
const testing::DeviceFunction long_conv = [](auto& in) {
  return conv2d(in[0], in[1], in[2], Conv2dOptions::square(1, 1));
};
std::vector<Tensor> long_conv_inputs() {
  return {parity_input({2, 256, 9, 7}, 1), parity_input({32, 256, 3, 3}, 2), parity_input({32}, 3)};
}
const testing::DeviceFunction long_linear = [](auto& in) { return linear(in[0], in[1], in[2]); };
std::vector<Tensor> long_linear_inputs() {
  return {parity_input({33, 2048}, 4), parity_input({65, 2048}, 5), parity_input({65}, 6)};
}

void expect_float32_results(const std::string& name, const testing::DeviceFunction& f,
                            const std::vector<Tensor>& inputs) {
  const std::vector<Tensor> cuda = outputs_and_gradients(f, inputs), reference = float64_reference(f, inputs);
  REQUIRE(cuda.size() == reference.size());
  for (std::size_t i = 0; i < cuda.size(); ++i) {
    expect_parity(name + (i == 0 ? " output" : " gradient " + std::to_string(i - 1)), cuda[i], reference[i],
                  {2e-5, 1e-6});
  }
}

void expect_bit_identical_reruns(const std::string& name, const testing::DeviceFunction& f,
                                 const std::vector<Tensor>& inputs) {
  const std::vector<Tensor> first = outputs_and_gradients(f, inputs), second = outputs_and_gradients(f, inputs);
  for (std::size_t i = 0; i < first.size(); ++i) {
    INFO(name << " result " << i << " (0: output, then gradients)");
    CHECK(first[i].to_vector() == second[i].to_vector());
  }
}

}  // namespace

TEST_CASE("parity cudnn: conv2d", "[parity][library]") {
  const UseBackends use({.conv = ConvBackend::cudnn});
  testing::conv2d_parity_cases();
}

TEST_CASE("parity cudnn: batch_norm train, eval and frozen", "[parity][library]") {
  const UseBackends use({.bn = BnBackend::cudnn});
  testing::batch_norm_parity_cases();
}

TEST_CASE("parity cublas: linear", "[parity][library]") {
  const UseBackends use({.gemm = GemmBackend::cublas});
  testing::linear_parity_cases();
}

TEST_CASE("parity cudnn + cublas: one training step of fmnist-bn", "[parity][library]") {
  const UseBackends use(all_libraries);
  testing::training_step_parity();
}

TEST_CASE("library: with TF32 off, cuDNN and cuBLAS give float32 results", "[library]") {
  const UseBackends use(all_libraries);
  expect_float32_results("cuDNN conv2d", long_conv, long_conv_inputs());
  expect_float32_results("cuBLAS linear", long_linear, long_linear_inputs());
}

TEST_CASE("library: deterministic mode gives bit-identical reruns", "[library]") {
  BackendSettings settings = all_libraries;
  settings.deterministic = true;
  const UseBackends use(settings);
  expect_bit_identical_reruns("cuDNN conv2d", long_conv, long_conv_inputs());
  expect_bit_identical_reruns("cuBLAS linear", long_linear, long_linear_inputs());
  BatchNormOptions options;
  const Tensor running_mean = Tensor::zeros({16}, DType::f32, Device::cuda(0));
  const Tensor running_var = Tensor::ones({16}, DType::f32, Device::cuda(0));
  expect_bit_identical_reruns(
      "cuDNN batch_norm train",
      [&](auto& in) { return batch_norm(in[0], in[1], in[2], running_mean.clone(), running_var.clone(), options); },
      {parity_input({8, 16, 13, 11}, 7), parity_input({16}, 8, 0.5, 1.5), parity_input({16}, 9)});
}
