// CUDA permutation: one thread per output element, which finds its input element from its coordinates.
#include "kernels/launch.h"
#include "kernels/permute.h"

namespace kiln::kernels::cuda {
namespace {

__global__ void permute_kernel(const float* x, float* y, std::int64_t n, PermuteGeometry geometry) {
  KILN_GRID_STRIDE_LOOP(index, n) {
    std::int64_t rest = index, offset = 0;
    for (int d = geometry.rank - 1; d >= 0; --d) {
      offset += rest % geometry.out_sizes[d] * geometry.in_strides[d];
      rest /= geometry.out_sizes[d];
    }
    y[index] = x[offset];
  }
}

}  // namespace

void permute(const float* x, float* y, const PermuteGeometry& geometry) {
  std::int64_t n = 1;
  for (int d = 0; d < geometry.rank; ++d) n *= geometry.out_sizes[d];
  if (n == 0) return;
  KILN_LAUNCH(permute_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, x, y, n, geometry);
}

}  // namespace kiln::kernels::cuda
