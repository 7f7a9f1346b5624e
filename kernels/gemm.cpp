// gemm over OpenBLAS. OpenBLAS's own threads are switched off so they never compete with, or nest inside, kiln's
// pool; kiln splits large products by rows of C instead.
#include "kernels/gemm.h"

#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "kernels/parallel.h"

extern "C" {
void openblas_set_num_threads(int);
char* openblas_get_corename();
// OpenBLAS's own choice of kernels (driver/others/dynamic.c), exported by its DYNAMIC_ARCH builds; weak, so that a
// BLAS without them still links.
[[gnu::weak]] void gotoblas_dynamic_init();
[[gnu::weak]] void gotoblas_dynamic_quit();
}

namespace kiln::kernels::cpu {
namespace {

constexpr std::int64_t multiply_adds_per_chunk = 1 << 18;  // a smaller row chunk is not worth a thread

// OpenBLAS picks its kernels from the CPU model and falls back to its SSE3 "Prescott" ones for a model it does not
// know: Debian 12's OpenBLAS 0.3.21 does so on the newest Xeons (Sapphire and Emerald Rapids), where its AVX-512
// kernels are 2-4 times faster. Unless the user chose (OPENBLAS_CORETYPE), kiln makes OpenBLAS choose again by that
// variable, for the instruction set the CPU has, before its first product; where OpenBLAS cannot, it says so once.
void choose_blas_kernels() {
  if (std::strcmp(openblas_get_corename(), "Prescott") != 0 || std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return;
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  const char* kernels = avx512 ? "SkylakeX" : "Haswell";
  if (gotoblas_dynamic_init != nullptr && gotoblas_dynamic_quit != nullptr) {
    setenv("OPENBLAS_CORETYPE", kernels, 0);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
  }
  if (std::strcmp(openblas_get_corename(), "Prescott") == 0) {
    std::cerr << "kiln: OpenBLAS does not recognise this CPU and runs its generic Prescott kernels, several times "
                 "slower; start the program with OPENBLAS_CORETYPE="
              << kernels << " in its environment\n";
  }
}

void use_single_threaded_blas() {
  static const bool done = [] {
    choose_blas_kernels();
    openblas_set_num_threads(1);
    return true;
  }();
  (void)done;
}

CBLAS_TRANSPOSE blas_transpose(bool transpose) { return transpose ? CblasTrans : CblasNoTrans; }
// BLAS rejects a leading dimension of 0 even when the matrix is empty (k == 0), where any value >= 1 is valid.
blasint leading_dimension(std::int64_t stride) { return static_cast<blasint>(std::max<std::int64_t>(1, stride)); }

void blas_gemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
               const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
               std::int64_t ldc) {
  cblas_sgemm(CblasRowMajor, blas_transpose(transpose_a), blas_transpose(transpose_b), static_cast<blasint>(m),
              static_cast<blasint>(n), static_cast<blasint>(k), alpha, a, leading_dimension(lda), b,
              leading_dimension(ldb), beta, c, leading_dimension(ldc));
}

void blas_gemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha,
               const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c,
               std::int64_t ldc) {
  cblas_dgemm(CblasRowMajor, blas_transpose(transpose_a), blas_transpose(transpose_b), static_cast<blasint>(m),
              static_cast<blasint>(n), static_cast<blasint>(k), alpha, a, leading_dimension(lda), b,
              leading_dimension(ldb), beta, c, leading_dimension(ldc));
}

}  // namespace

template <class T>
void gemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
          std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  use_single_threaded_blas();
  // Row r of op(A) starts at a + r * lda, or at a + r when A is stored transposed (k x m).
  const std::int64_t a_row_step = transpose_a ? 1 : lda;
  const std::int64_t grain = std::max<std::int64_t>(1, multiply_adds_per_chunk / std::max<std::int64_t>(1, n * k));
  parallel_for(0, m, grain, [&](std::int64_t begin, std::int64_t end) {
    blas_gemm(transpose_a, transpose_b, end - begin, n, k, alpha, a + begin * a_row_step, lda, b, ldb, beta,
              c + begin * ldc, ldc);
  });
}

const char* blas_kernels() {
  use_single_threaded_blas();  // the kernels as chosen for kiln's products
  return openblas_get_corename();
}

template void gemm<float>(bool, bool, std::int64_t, std::int64_t, std::int64_t, float, const float*, std::int64_t,
                          const float*, std::int64_t, float, float*, std::int64_t);
template void gemm<double>(bool, bool, std::int64_t, std::int64_t, std::int64_t, double, const double*, std::int64_t,
                           const double*, std::int64_t, double, double*, std::int64_t);

}  // namespace kiln::kernels::cpu
