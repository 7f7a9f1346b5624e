// Sample kernel: the classic shared-memory tiled SGEMM, one output element per thread.
#include "kernels/simt/cuda_compat.h"
#include "tests/simt/samples.h"

namespace kiln::simt::samples {
namespace {

template <int Tile>
__global__ void __launch_bounds__(Tile * Tile) sgemm_tiled_kernel(const float* a, const float* b, float* c, int m, int n, int k) {
  __shared__ float a_tile[Tile][Tile];
  __shared__ float b_tile[Tile][Tile + 1];  // padded against bank conflicts on the GPU
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const int row = static_cast<int>(blockIdx.y) * Tile + ty;
  const int col = static_cast<int>(blockIdx.x) * Tile + tx;
  float acc = 0.0f;
  for (int t = 0; t < k; t += Tile) {
    a_tile[ty][tx] = row < m && t + tx < k ? a[row * k + t + tx] : 0.0f;
    b_tile[ty][tx] = t + ty < k && col < n ? b[(t + ty) * n + col] : 0.0f;
    __syncthreads();
    for (int i = 0; i < Tile; ++i) {
      acc += a_tile[ty][i] * b_tile[i][tx];
    }
    __syncthreads();
  }
  if (row < m && col < n) {
    c[row * n + col] = acc;
  }
}

}  // namespace

void sgemm_tiled(const float* a, const float* b, float* c, int m, int n, int k) {
  constexpr int tile = 32;
  const dim3 grid((n + tile - 1) / tile, (m + tile - 1) / tile);
  KILN_LAUNCH(sgemm_tiled_kernel<tile>, grid, dim3(tile, tile), 0, nullptr, a, b, c, m, n, k);
}

}  // namespace kiln::simt::samples
