#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "kernels/gemm.h"
#include "kiln/kiln.h"
#include "tests/cuda/op_cases.h"
#include "tests/cuda/parity.h"

using namespace kiln;

namespace {

struct GemmCase {
  std::int64_t m, n, k;
  float alpha, beta;
  bool aligned;        // leading dimensions rounded up to multiples of 4: the float4 path (else tight: scalar)
  std::int64_t shift;  // elements the operands start past a 16-byte boundary (1: scalar path despite aligned strides)
};

// cuda::gemm on device buffers against cpu::gemm on the same values. C's leading dimension is padded, and its padding
// must come back untouched; with beta == 0, C starts as NaN, which the kernel must overwrite without reading.
void check_gemm(bool transpose_a, bool transpose_b, const GemmCase& test, std::uint64_t seed) {
  const auto stride = [&](std::int64_t columns) { return test.aligned ? (columns + 3) / 4 * 4 : columns; };
  const std::int64_t a_rows = transpose_a ? test.k : test.m, lda = stride(transpose_a ? test.m : test.k);
  const std::int64_t b_rows = transpose_b ? test.n : test.k, ldb = stride(transpose_b ? test.k : test.n);
  const std::int64_t ldc = stride(test.n) + 4;
  Generator generator(seed);
  const Tensor a = Tensor::uniform({a_rows * lda + test.shift}, -1, 1, generator);
  const Tensor b = Tensor::uniform({b_rows * ldb + test.shift}, -1, 1, generator);
  const Tensor c = test.beta == 0.0f ? Tensor::full({test.m * ldc + test.shift}, std::nan(""))
                                     : Tensor::uniform({test.m * ldc + test.shift}, -1, 1, generator);
  const Tensor a_device = a.to(Device::cuda(0)), b_device = b.to(Device::cuda(0)), c_device = c.to(Device::cuda(0));
  const Tensor c_host = c.clone();
  kernels::cpu::gemm(transpose_a, transpose_b, test.m, test.n, test.k, test.alpha, a.data<float>() + test.shift, lda,
                     b.data<float>() + test.shift, ldb, test.beta, c_host.data<float>() + test.shift, ldc);
  kernels::cuda::gemm(transpose_a, transpose_b, test.m, test.n, test.k, test.alpha,
                      a_device.data<float>() + test.shift, lda, b_device.data<float>() + test.shift, ldb, test.beta,
                      c_device.data<float>() + test.shift, ldc);

  INFO("gemm transpose (" << transpose_a << ", " << transpose_b << ") " << test.m << " x " << test.n << " x "
                          << test.k << " alpha " << test.alpha << " beta " << test.beta << " aligned "
                          << test.aligned << " shift " << test.shift);
  const std::vector<float> expected = c_host.to_vector(), actual = c_device.to_vector(), before = c.to_vector();
  double scale = 0, worst = 0;
  bool finite = true, padding_kept = true;
  for (std::int64_t row = 0; row < test.m; ++row) {
    for (std::int64_t col = 0; col < ldc; ++col) {
      const auto i = static_cast<std::size_t>(test.shift + row * ldc + col);
      if (col < test.n) {
        scale = std::max(scale, std::abs(static_cast<double>(expected[i])));
        worst = std::max(worst, std::abs(static_cast<double>(actual[i]) - expected[i]));
        finite = finite && std::isfinite(actual[i]);
      } else {
        padding_kept = padding_kept && (actual[i] == before[i] || (std::isnan(actual[i]) && std::isnan(before[i])));
      }
    }
  }
  INFO("largest difference " << worst << " (scale " << scale << ")");
  CHECK(finite);
  CHECK(worst <= 1e-5 * scale + 1e-6);
  CHECK(padding_kept);
}

}  // namespace

TEST_CASE("parity native: gemm", "[parity]") {
  const GemmCase cases[] = {
      {67, 45, 129, 1.0f, 0.0f, false, 0},  {67, 45, 129, 1.5f, -0.5f, true, 0}, {67, 45, 129, 1.0f, 0.0f, true, 1},
      {1, 1, 1, 1.0f, 0.0f, false, 0},      {1, 1, 1, -2.0f, 0.5f, true, 0},     {130, 70, 20, 1.0f, 1.0f, true, 0},
      {64, 128, 32, 0.5f, 0.0f, true, 0},   {5, 3, 0, 1.0f, 0.25f, true, 0},
  };
  std::uint64_t seed = 1;
  for (const bool transpose_a : {false, true}) {
    for (const bool transpose_b : {false, true}) {
      for (const GemmCase& test : cases) check_gemm(transpose_a, transpose_b, test, seed++);
    }
  }
}

TEST_CASE("parity native: linear", "[parity]") { testing::linear_parity_cases(); }
