#pragma once
// Dense matrix product over BLAS: the workhorse of linear and convolution layers.
#include <cstdint>

namespace kiln::kernels::cpu {

// C = alpha * op(A) * op(B) + beta * C on row-major matrices, op(A) m x k, op(B) k x n, C m x n; op(X) is X or its
// transpose. lda/ldb/ldc are the row strides of A, B and C as stored. Outside a parallel region, large products are
// split by rows of C over kiln's threads; inside one (e.g. a per-image loop) this is one single-threaded call.
template <class T>
void gemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
          std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc);

// The name of the kernels OpenBLAS runs on this CPU ("SkylakeX", "Haswell", ...), for benchmark reports.
const char* blas_kernels();

}  // namespace kiln::kernels::cpu

// CUDA version (float32, device pointers), in gemm.cu: the same row-major semantics as cpu::gemm; C is not read when
// beta is 0.
namespace kiln::kernels::cuda {

void gemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc);

}  // namespace kiln::kernels::cuda

// cuBLAS version (float32, device pointers on cuda:device_index), in gemm_cublas.cu (KILN_CUDA builds only): the
// same row-major semantics; full float32 unless TF32 is allowed (kiln/backend.h).
namespace kiln::kernels::cublas {

void gemm(int device_index, bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k,
          float alpha, const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc);

}  // namespace kiln::kernels::cublas
