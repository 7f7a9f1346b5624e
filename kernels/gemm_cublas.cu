// SGEMM through cuBLAS. cuBLAS is column-major: a row-major matrix is its column-major transpose, so the row-major
// C = op(A) op(B) is the column-major C^T = op(B)^T op(A)^T, i.e. one call with the operands swapped.
// Deterministic as it stands: cuBLAS gives bit-identical results run to run on one GPU model with one stream per
// handle, which the context guarantees.
#include <climits>

#include "base/cuda/check.h"
#include "base/cuda/context.h"
#include "kernels/gemm.h"
#include "kiln/backend.h"

namespace kiln::kernels::cublas {
namespace {

int checked_int(std::int64_t value, const char* what) {
  KILN_CHECK(value >= 0 && value <= INT_MAX, "gemm (cuBLAS): ", what, " ", value, " does not fit cuBLAS's int");
  return static_cast<int>(value);
}

}  // namespace

void gemm(int device_index, bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k,
          float alpha, const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc) {
  if (m == 0 || n == 0) return;
  kiln::cuda::Context& context = kiln::cuda::Context::get(device_index);
  const cublasHandle_t handle = context.cublas();
  // CUBLAS_DEFAULT_MATH never converts float32 inputs to TF32; the TF32 mode allows it.
  KILN_CUBLAS_CHECK(cublasSetMathMode(handle, allow_tf32() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  KILN_CUBLAS_CHECK(cublasSgemm(handle, transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N, checked_int(n, "n"), checked_int(m, "m"),
                                checked_int(k, "k"), &alpha, b, checked_int(ldb, "ldb"), a, checked_int(lda, "lda"),
                                &beta, c, checked_int(ldc, "ldc")));
}

}  // namespace kiln::kernels::cublas
