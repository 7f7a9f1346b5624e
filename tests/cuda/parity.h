#pragma once
// CPU-vs-CUDA parity: the same op on float32 inputs on the CPU (the oracle) and on cuda:0 must give the same output
// and input gradients within a tolerance. Runs on a real GPU, or on the SIMT emulator in KILN_CUDA_EMULATION builds.
#include <functional>
#include <string>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::testing {

struct ParityOptions {
  double rtol = 1e-4;  // |cuda - cpu| <= rtol * max|cpu| + atol, per tensor
  double atol = 1e-5;
};

using DeviceFunction = std::function<Tensor(const std::vector<Tensor>&)>;

// Runs f on CPU copies and CUDA copies of the inputs; compares outputs, then backpropagates the same random
// upstream gradient and compares the gradients of every input that requires one (int32 inputs are passed as they
// are, moved to the device). Fails the current Catch2 test naming the op and the tensor.
void check_parity(const std::string& name, const DeviceFunction& f, const std::vector<Tensor>& inputs,
                  const ParityOptions& options = {});

// A float32 CPU tensor with uniform values in [low, high), marked requires_grad.
Tensor parity_input(const Shape& shape, std::uint64_t seed, double low = -1.0, double high = 1.0);

// Compares two tensors (any devices) as check_parity does.
void expect_parity(const std::string& what, const Tensor& cuda_result, const Tensor& cpu_result,
                   const ParityOptions& options = {});

}  // namespace kiln::testing
