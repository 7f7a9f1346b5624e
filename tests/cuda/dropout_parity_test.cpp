#include <catch2/catch.hpp>

#include "kernels/philox.h"
#include "kiln/kiln.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::check_parity;
using kiln::testing::parity_input;

TEST_CASE("parity native: dropout", "[parity]") {
  constexpr double p = 0.3;
  constexpr std::uint64_t seed = 77, offset = 13;
  // A generator already past its first counters, so the kernels must add `first`.
  const auto f = [](auto& in) {
    Generator generator(seed);
    generator.reserve(offset);
    return dropout(in[0], p, true, generator);
  };
  // 1155 elements span several blocks; x is never 0, so y is 0 exactly where the mask drops.
  const Tensor x = parity_input({3, 5, 7, 11}, 50, 0.5, 1.5);
  check_parity("dropout", f, {x});

  // Bit-exact: the CUDA mask (seen through y and dx) equals the CPU's element by element, and both equal the
  // definition, philox_uniform(seed, offset + i) >= p.
  std::vector<Tensor> cpu_in{x.detach().clone().set_requires_grad(true)};
  std::vector<Tensor> cuda_in{x.detach().to(Device::cuda(0)).set_requires_grad(true)};
  const Tensor cpu_y = f(cpu_in), cuda_y = f(cuda_in);
  sum(cpu_y).backward();
  sum(cuda_y).backward();
  const std::vector<float> y = cuda_y.to_vector(), dx = cuda_in[0].grad().to_vector();
  CHECK(y == cpu_y.to_vector());
  CHECK(dx == cpu_in[0].grad().to_vector());
  std::size_t kept = 0, mismatches = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const bool keep = static_cast<double>(kernels::philox_uniform(seed, offset + i)) >= p;
    kept += keep ? 1 : 0;
    mismatches += (keep != (y[i] != 0.0f) || keep != (dx[i] != 0.0f)) ? 1 : 0;
  }
  CHECK(mismatches == 0);
  CHECK(kept > y.size() / 2);  // about 70% kept
  CHECK(kept < y.size() * 9 / 10);
}
