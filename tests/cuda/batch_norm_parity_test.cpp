#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "kiln/kiln.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::check_parity;
using kiln::testing::DeviceFunction;
using kiln::testing::expect_parity;
using kiln::testing::parity_input;

namespace {

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

TEST_CASE("parity native: batch_norm", "[parity]") {
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
