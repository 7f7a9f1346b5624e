// Sample kernels: a grid-stride float4 map and a 3-D launch that records every thread's coordinates.
#include "kernels/simt/cuda_compat.h"
#include "tests/simt/samples.h"

namespace kiln::simt::samples {
namespace {

__global__ void relu_scale4_kernel(const float4* __restrict__ x, float4* __restrict__ y, float scale, int n4) {
  const int stride = static_cast<int>(gridDim.x * blockDim.x);
  for (int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x); i < n4; i += stride) {
    const float4 v = x[i];
    y[i] = make_float4(fmaxf(v.x, 0.0f) * scale, fmaxf(v.y, 0.0f) * scale, fmaxf(v.z, 0.0f) * scale,
                       fmaxf(v.w, 0.0f) * scale);
  }
}

__global__ void coordinates_kernel(unsigned* out) {
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  unsigned* slot = out + 6 * (block * blockDim.x * blockDim.y * blockDim.z + thread);
  atomicAdd(slot + 0, threadIdx.x);
  atomicAdd(slot + 1, threadIdx.y);
  atomicAdd(slot + 2, threadIdx.z);
  atomicAdd(slot + 3, blockIdx.x);
  atomicAdd(slot + 4, blockIdx.y);
  atomicAdd(slot + 5, blockIdx.z);
}

}  // namespace

void relu_scale4(const float* x, float* y, float scale, int n, int blocks, int threads_per_block) {
  KILN_LAUNCH(relu_scale4_kernel, dim3(blocks), dim3(threads_per_block), 0, nullptr,
              reinterpret_cast<const float4*>(x), reinterpret_cast<float4*>(y), scale, n / 4);
}

void coordinates(unsigned* out, int grid_x, int grid_y, int grid_z, int block_x, int block_y, int block_z) {
  const dim3 grid(grid_x, grid_y, grid_z);
  const dim3 block(block_x, block_y, block_z);
  KILN_LAUNCH(coordinates_kernel, grid, block, 0, nullptr, out);
}

}  // namespace kiln::simt::samples
