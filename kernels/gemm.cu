// CUDA SGEMM, row-major, C = alpha * op(A) * op(B) + beta * C.
// Tiling: each 256-thread block owns a 64 x 64 tile of C and walks k in steps of 16. Per step the block stages a
// 64 x 16 slice of op(A) and a 16 x 64 slice of op(B) in shared memory, both stored k-major ([k][m] and [k][n]) so
// the inner product reads contiguous float4s; each thread accumulates a 4 x 4 register block of C (4 rows of the A
// slice times 4 columns of the B slice per k). The next slices are fetched into registers while the current ones are
// multiplied. Global loads run along whichever dimension is contiguous in memory (k for A, n for B, or m/n when
// transposed), as float4 when the leading dimension and the pointer are 16-byte aligned (chosen at launch), with a
// bounds-checked scalar path for edge tiles and unaligned operands.
#include "kernels/gemm.h"
#include "kernels/launch.h"
#include "kernels/register_tile.h"
#include "kiln/error.h"

namespace kiln::kernels::cuda {
namespace {

constexpr int tile = 64;    // rows and columns of C per block
constexpr int tile_k = 16;  // k per shared-memory stage
// Shared row length: 4 floats of padding spread the transposing stores over more banks and keep rows 16-byte aligned.
constexpr int tile_stride = tile + 4;

// One operand slice in shared memory: slice[kk][mn] for kk < tile_k, mn < tile.
using Slice = float[tile_k][tile_stride];

// Loads this thread's 4 elements of the tile x tile_k slice of operand X at (mn0, k0), where X(mn, kk) lies at
// x[mn * ld + kk] when KContiguous, else at x[kk * ld + mn]. The 4 elements run along the contiguous dimension;
// those outside [0, mn_size) x [0, k_size) read as 0.
template <bool KContiguous, bool Vectorized>
__device__ void load_slice(const float* x, std::int64_t ld, std::int64_t mn_size, std::int64_t k_size,
                           std::int64_t mn0, std::int64_t k0, float (&r)[4]) {
  const int t = static_cast<int>(threadIdx.x);
  const std::int64_t mn = mn0 + (KContiguous ? t / 4 : (t % 16) * 4);
  const std::int64_t kk = k0 + (KContiguous ? (t % 4) * 4 : t / 16);
  const std::int64_t outer = KContiguous ? mn : kk, inner = KContiguous ? kk : mn;
  const std::int64_t outer_size = KContiguous ? mn_size : k_size, inner_size = KContiguous ? k_size : mn_size;
  if (outer >= outer_size) {
    for (float& value : r) value = 0.0f;
  } else if (Vectorized && inner + 3 < inner_size) {
    const float4 v = *reinterpret_cast<const float4*>(x + outer * ld + inner);
    r[0] = v.x, r[1] = v.y, r[2] = v.z, r[3] = v.w;
  } else {
    for (int i = 0; i < 4; ++i) r[i] = inner + i < inner_size ? x[outer * ld + inner + i] : 0.0f;
  }
}

// Stores what load_slice<KContiguous> read into the shared slice, transposing k-contiguous elements to [k][mn].
template <bool KContiguous>
__device__ void store_slice(const float (&r)[4], Slice& slice) {
  const int t = static_cast<int>(threadIdx.x);
  if (KContiguous) {
    for (int i = 0; i < 4; ++i) slice[(t % 4) * 4 + i][t / 4] = r[i];
  } else {
    *reinterpret_cast<float4*>(&slice[t / 16][(t % 16) * 4]) = make_float4(r[0], r[1], r[2], r[3]);
  }
}

// One block per 64 x 64 tile of C (blockIdx.x over m, blockIdx.y over n); thread (t / 16, t % 16) owns rows
// 4 * (t / 16) + i and columns 4 * (t % 16) + j of the tile.
template <bool TransposeA, bool TransposeB, bool Vectorized>
__global__ __launch_bounds__(256) void gemm_kernel(std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                                                   const float* a, std::int64_t lda, const float* b,
                                                   std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  __shared__ __align__(16) Slice a_slice;
  __shared__ __align__(16) Slice b_slice;
  const std::int64_t m0 = static_cast<std::int64_t>(blockIdx.x) * tile;
  const std::int64_t n0 = static_cast<std::int64_t>(blockIdx.y) * tile;
  // op(A) is k-contiguous unless A is stored transposed; op(B) is n-contiguous unless B is.
  constexpr bool a_k_contiguous = !TransposeA, b_k_contiguous = TransposeB;
  float a_next[4], b_next[4];
  load_slice<a_k_contiguous, Vectorized>(a, lda, m, k, m0, 0, a_next);
  load_slice<b_k_contiguous, Vectorized>(b, ldb, n, k, n0, 0, b_next);

  const int row = static_cast<int>(threadIdx.x / 16) * 4, col = static_cast<int>(threadIdx.x % 16) * 4;
  float acc[4][4] = {};
  for (std::int64_t k0 = 0; k0 < k; k0 += tile_k) {
    store_slice<a_k_contiguous>(a_next, a_slice);
    store_slice<b_k_contiguous>(b_next, b_slice);
    __syncthreads();
    if (k0 + tile_k < k) {
      load_slice<a_k_contiguous, Vectorized>(a, lda, m, k, m0, k0 + tile_k, a_next);
      load_slice<b_k_contiguous, Vectorized>(b, ldb, n, k, n0, k0 + tile_k, b_next);
    }
    accumulate_register_tile(a_slice, b_slice, row, col, acc);
    __syncthreads();
  }

  for (int i = 0; i < 4; ++i) {
    const std::int64_t r = m0 + row + i;
    if (r >= m) break;
    for (int j = 0; j < 4; ++j) {
      const std::int64_t q = n0 + col + j;
      if (q >= n) break;
      float* out = c + r * ldc + q;
      // beta == 0 overwrites without reading, as BLAS does: C may hold garbage.
      *out = beta == 0.0f ? alpha * acc[i][j] : fmaf(beta, *out, alpha * acc[i][j]);
    }
  }
}

bool aligned_for_float4(const float* x, std::int64_t ld) {
  return ld % 4 == 0 && reinterpret_cast<std::uintptr_t>(x) % 16 == 0;
}

template <bool TransposeA, bool TransposeB>
void launch_gemm(std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a, std::int64_t lda,
                 const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  const dim3 grid(static_cast<unsigned>((m + tile - 1) / tile), static_cast<unsigned>((n + tile - 1) / tile));
  if (aligned_for_float4(a, lda) && aligned_for_float4(b, ldb)) {
    KILN_LAUNCH((gemm_kernel<TransposeA, TransposeB, true>), grid, dim3(threads_per_block), 0, nullptr, m, n, k,
                alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    KILN_LAUNCH((gemm_kernel<TransposeA, TransposeB, false>), grid, dim3(threads_per_block), 0, nullptr, m, n, k,
                alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

}  // namespace

void gemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc) {
  if (m == 0 || n == 0) return;
  KILN_CHECK((m + tile - 1) / tile <= 0x7fffffff && (n + tile - 1) / tile <= 65535, "cuda gemm: ", m, " x ", n,
             " is too large for one launch");
  if (transpose_a) {
    if (transpose_b) {
      launch_gemm<true, true>(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    } else {
      launch_gemm<true, false>(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
  } else if (transpose_b) {
    launch_gemm<false, true>(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    launch_gemm<false, false>(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

}  // namespace kiln::kernels::cuda
