// CUDA inverted dropout: grid-stride loops, one element (and one Philox draw) per thread per iteration.
#include "kernels/dropout.h"
#include "kernels/launch.h"
#include "kernels/philox.h"

namespace kiln::kernels::cuda {
namespace {

// The keep test is the CPU kernel's expression (the float uniform compared in double), so the masks match bit for bit.
__global__ void dropout_forward_kernel(const float* x, float* y, std::uint8_t* mask, std::int64_t n, std::uint64_t seed,
                                       std::uint64_t first, double p, float keep_scale) {
  KILN_GRID_STRIDE_LOOP(i, n) {
    const bool keep = static_cast<double>(philox_uniform(seed, first + static_cast<std::uint64_t>(i))) >= p;
    mask[i] = keep ? 1 : 0;
    y[i] = keep ? x[i] * keep_scale : 0.0f;
  }
}

__global__ void dropout_backward_kernel(const float* dy, const std::uint8_t* mask, float* dx, std::int64_t n,
                                        float keep_scale) {
  KILN_GRID_STRIDE_LOOP(i, n) dx[i] = mask[i] != 0 ? dy[i] * keep_scale : 0.0f;
}

// Rounded as the CPU kernel rounds it, so kept values match exactly too.
float keep_scale_for(double p) { return static_cast<float>(1.0 / (1.0 - p)); }

}  // namespace

void dropout_forward(const float* x, float* y, std::uint8_t* mask, std::int64_t n, std::uint64_t seed,
                     std::uint64_t first, double p) {
  KILN_LAUNCH(dropout_forward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, x, y, mask, n, seed, first, p,
              keep_scale_for(p));
}

void dropout_backward(const float* dy, const std::uint8_t* mask, float* dx, std::int64_t n, double p) {
  KILN_LAUNCH(dropout_backward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, dy, mask, dx, n,
              keep_scale_for(p));
}

}  // namespace kiln::kernels::cuda
