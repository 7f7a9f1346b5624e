// CUDA elementwise kernels: grid-stride loops, one element per thread per iteration.
#include "kernels/elementwise.h"
#include "kernels/launch.h"

namespace kiln::kernels::cuda {
namespace {

__global__ void add_kernel(const float* a, const float* b, float* out, std::int64_t n) {
  KILN_GRID_STRIDE_LOOP(i, n) out[i] = a[i] + b[i];
}

__global__ void mul_kernel(const float* a, const float* b, float* out, std::int64_t n) {
  KILN_GRID_STRIDE_LOOP(i, n) out[i] = a[i] * b[i];
}

__global__ void scale_kernel(const float* x, float factor, float* out, std::int64_t n) {
  KILN_GRID_STRIDE_LOOP(i, n) out[i] = x[i] * factor;
}

__global__ void relu_forward_kernel(const float* x, float* y, std::int64_t n) {
  KILN_GRID_STRIDE_LOOP(i, n) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

__global__ void relu_backward_kernel(const float* x, const float* dy, float* dx, std::int64_t n) {
  KILN_GRID_STRIDE_LOOP(i, n) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

__global__ void relu6_forward_kernel(const float* x, float* y, std::int64_t n) {
  KILN_GRID_STRIDE_LOOP(i, n) y[i] = fminf(fmaxf(x[i], 0.0f), 6.0f);
}

__global__ void relu6_backward_kernel(const float* x, const float* dy, float* dx, std::int64_t n) {
  KILN_GRID_STRIDE_LOOP(i, n) dx[i] = (x[i] > 0.0f && x[i] < 6.0f) ? dy[i] : 0.0f;
}

__global__ void bias_add_forward_kernel(const float* x, const float* bias, float* y, std::int64_t channels,
                                        std::int64_t inner, std::int64_t n) {
  KILN_GRID_STRIDE_LOOP(i, n) y[i] = x[i] + bias[(i / inner) % channels];
}

// One block per channel: threads stride over (outer, inner), then a shared-memory tree sums their partials.
__global__ void bias_add_backward_kernel(const float* dy, float* dbias, std::int64_t outer, std::int64_t channels,
                                         std::int64_t inner) {
  __shared__ float partial[threads_per_block];
  const std::int64_t c = blockIdx.x;
  float total = 0.0f;
  for (std::int64_t k = threadIdx.x; k < outer * inner; k += blockDim.x) {
    const std::int64_t o = k / inner, i = k % inner;
    total += dy[(o * channels + c) * inner + i];
  }
  partial[threadIdx.x] = total;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) dbias[c] = partial[0];
}

}  // namespace

void add(const float* a, const float* b, float* out, std::int64_t n) {
  KILN_LAUNCH(add_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, a, b, out, n);
}
void mul(const float* a, const float* b, float* out, std::int64_t n) {
  KILN_LAUNCH(mul_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, a, b, out, n);
}
void scale(const float* x, float factor, float* out, std::int64_t n) {
  KILN_LAUNCH(scale_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, x, factor, out, n);
}
void relu_forward(const float* x, float* y, std::int64_t n) {
  KILN_LAUNCH(relu_forward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, x, y, n);
}
void relu_backward(const float* x, const float* dy, float* dx, std::int64_t n) {
  KILN_LAUNCH(relu_backward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, x, dy, dx, n);
}
void relu6_forward(const float* x, float* y, std::int64_t n) {
  KILN_LAUNCH(relu6_forward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, x, y, n);
}
void relu6_backward(const float* x, const float* dy, float* dx, std::int64_t n) {
  KILN_LAUNCH(relu6_backward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, x, dy, dx, n);
}
void bias_add_forward(const float* x, const float* bias, float* y, std::int64_t outer, std::int64_t channels,
                      std::int64_t inner) {
  const std::int64_t n = outer * channels * inner;
  KILN_LAUNCH(bias_add_forward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, x, bias, y, channels, inner,
              n);
}
void bias_add_backward(const float* dy, float* dbias, std::int64_t outer, std::int64_t channels, std::int64_t inner) {
  KILN_LAUNCH(bias_add_backward_kernel, dim3(static_cast<unsigned>(channels)), dim3(threads_per_block), 0, nullptr, dy,
              dbias, outer, channels, inner);
}

}  // namespace kiln::kernels::cuda
