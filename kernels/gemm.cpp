// gemm over OpenBLAS. OpenBLAS's own threads are switched off so they never compete with, or nest inside, kiln's
// pool; kiln splits large products by rows of C instead.
#include "kernels/gemm.h"

#include <cblas.h>

#include <algorithm>

#include "kernels/parallel.h"

extern "C" void openblas_set_num_threads(int);

namespace kiln::kernels::cpu {
namespace {

constexpr std::int64_t multiply_adds_per_chunk = 1 << 18;  // a smaller row chunk is not worth a thread

void use_single_threaded_blas() {
  static const bool done = [] {
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

template void gemm<float>(bool, bool, std::int64_t, std::int64_t, std::int64_t, float, const float*, std::int64_t,
                          const float*, std::int64_t, float, float*, std::int64_t);
template void gemm<double>(bool, bool, std::int64_t, std::int64_t, std::int64_t, double, const double*, std::int64_t,
                           const double*, std::int64_t, double, double*, std::int64_t);

}  // namespace kiln::kernels::cpu
