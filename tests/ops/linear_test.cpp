#include <catch2/catch.hpp>
#include <cmath>

#include "kernels/gemm.h"
#include "kernels/parallel.h"
#include "kiln/kiln.h"
#include "tests/support/gradcheck.h"

using namespace kiln;
using kiln::testing::check_gradients;
using kiln::testing::random_input;

TEST_CASE("forward: linear on hand-computed values", "[forward]") {
  const Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor w = Tensor::from_vector(std::vector<float>{1, 0, -1, 2, 1, 0}, {2, 3});
  const Tensor b = Tensor::from_vector(std::vector<float>{0.5f, -1}, {2});
  CHECK(linear(x, w, Tensor()).to_vector() == std::vector<float>{-2, 4, -2, 13});
  CHECK(linear(x, w, b).to_vector() == std::vector<float>{-1.5f, 3, -1.5f, 12});
  CHECK_THROWS_WITH(linear(x, Tensor::ones({2, 4}), Tensor()),
                    "linear: input [2, 3] has 3 features but weight [2, 4] expects 4");
  CHECK_THROWS_WITH(linear(x, w, Tensor::ones({3})),
                    "linear: bias [3] does not match the 2 output features of weight [2, 3]");
  CHECK_THROWS_WITH(linear(Tensor::ones({2, 3, 1}), w, Tensor()),
                    Catch::Contains("linear") && Catch::Contains("[2, 3, 1]"));
}

TEMPLATE_TEST_CASE("forward: gemm matches a naive product for every transpose combination", "[forward]", float,
                   double) {
  // 300 rows with n * k = 2000 split into several row chunks, so the per-chunk pointer offsets are exercised too.
  const std::int64_t m = 300, n = 40, k = 50;
  const TestType alpha = TestType(0.5), beta = TestType(2);
  const auto value = [](std::int64_t i, double phase) { return static_cast<TestType>(std::sin(0.37 * i + phase)); };
  const int saved_threads = kernels::num_threads();
  kernels::set_num_threads(4);
  for (const bool transpose_a : {false, true}) {
    for (const bool transpose_b : {false, true}) {
      // Every matrix is stored with one spare column, so leading dimensions differ from the widths.
      const std::int64_t lda = (transpose_a ? m : k) + 1, ldb = (transpose_b ? k : n) + 1, ldc = n + 1;
      std::vector<TestType> a(static_cast<std::size_t>((transpose_a ? k : m) * lda));
      std::vector<TestType> b(static_cast<std::size_t>((transpose_b ? n : k) * ldb));
      std::vector<TestType> c(static_cast<std::size_t>(m * ldc));
      for (std::size_t i = 0; i < a.size(); ++i) a[i] = value(static_cast<std::int64_t>(i), 0.0);
      for (std::size_t i = 0; i < b.size(); ++i) b[i] = value(static_cast<std::int64_t>(i), 1.0);
      for (std::size_t i = 0; i < c.size(); ++i) c[i] = value(static_cast<std::int64_t>(i), 2.0);
      const std::vector<TestType> c_before = c;
      kernels::cpu::gemm(transpose_a, transpose_b, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
      INFO("transpose_a " << transpose_a << ", transpose_b " << transpose_b);
      for (std::int64_t i = 0; i < m; ++i) {
        for (std::int64_t j = 0; j < n; ++j) {
          double product = 0;
          for (std::int64_t p = 0; p < k; ++p) {
            const double a_ip = transpose_a ? a[static_cast<std::size_t>(p * lda + i)]
                                            : a[static_cast<std::size_t>(i * lda + p)];
            const double b_pj = transpose_b ? b[static_cast<std::size_t>(j * ldb + p)]
                                            : b[static_cast<std::size_t>(p * ldb + j)];
            product += a_ip * b_pj;
          }
          const std::size_t at = static_cast<std::size_t>(i * ldc + j);
          CHECK(c[at] == Approx(alpha * product + beta * c_before[at]).epsilon(1e-4).margin(1e-4));
        }
        // The spare column is not written.
        const std::size_t spare = static_cast<std::size_t>(i * ldc + n);
        CHECK(c[spare] == c_before[spare]);
      }
    }
  }
  kernels::set_num_threads(saved_threads);
}

TEST_CASE("gradcheck: linear", "[gradcheck]") {
  SECTION("with bias") {
    check_gradients([](auto& in) { return linear(in[0], in[1], in[2]); },
                    {random_input({3, 5}, 71), random_input({7, 5}, 72), random_input({7}, 73)});
  }
  SECTION("without bias") {
    check_gradients([](auto& in) { return linear(in[0], in[1], Tensor()); },
                    {random_input({5, 3}, 74), random_input({2, 3}, 75)});
  }
}

TEST_CASE("gemm: OpenBLAS runs kernels for this CPU's instruction set", "[ops]") {
  // OpenBLAS takes CPUs it does not know for a Prescott (SSE3); kiln makes it choose again (kernels/gemm.cpp).
  __builtin_cpu_init();
  const std::string kernels = kernels::cpu::blas_kernels();
  INFO("OpenBLAS kernels: " << kernels << "; " << cpu_status_line());
  CHECK(cpu_status_line().find(kernels) != std::string::npos);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) CHECK(kernels != "Prescott");
}
