// CUDA crop: one thread per output element (forward) or per input-gradient element (backward, which writes the zeros
// outside the window itself, so no separate fill runs).
#include "kernels/crop2d.h"
#include "kernels/launch.h"

namespace kiln::kernels::cuda {
namespace {

__global__ void crop2d_forward_kernel(const float* x, float* y, std::int64_t n, Crop2dWindow window) {
  KILN_GRID_STRIDE_LOOP(index, n) {
    const std::int64_t column = index % window.width, rest = index / window.width;
    const std::int64_t row = rest % window.height, plane = rest / window.height;
    y[index] = x[(plane * window.in_height + window.top + row) * window.in_width + window.left + column];
  }
}

__global__ void crop2d_backward_kernel(const float* dy, float* dx, std::int64_t n, Crop2dWindow window) {
  KILN_GRID_STRIDE_LOOP(index, n) {
    const std::int64_t column = index % window.in_width - window.left, rest = index / window.in_width;
    const std::int64_t row = rest % window.in_height - window.top, plane = rest / window.in_height;
    const bool inside = row >= 0 && row < window.height && column >= 0 && column < window.width;
    dx[index] = inside ? dy[(plane * window.height + row) * window.width + column] : 0.0f;
  }
}

}  // namespace

void crop2d_forward(const float* x, float* y, const Crop2dWindow& window) {
  const std::int64_t n = window.planes * window.height * window.width;
  if (n == 0) return;
  KILN_LAUNCH(crop2d_forward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, x, y, n, window);
}

void crop2d_backward(const float* dy, float* dx, const Crop2dWindow& window) {
  const std::int64_t n = window.planes * window.in_height * window.in_width;
  if (n == 0) return;
  KILN_LAUNCH(crop2d_backward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, dy, dx, n, window);
}

}  // namespace kiln::kernels::cuda
