// Sample kernels: dynamic shared memory, and negative controls whose bugs the emulator must show.
#include <cstddef>

#include "kernels/simt/cuda_compat.h"
#include "tests/simt/samples.h"

namespace kiln::simt::samples {
namespace {

// Instantiated for float and double: both builds must take two element types of dynamic shared memory in one file.
template <class T>
__global__ void reverse_block_kernel(const T* x, T* y) {
  KILN_DYNAMIC_SHARED(T, buffer);
  const unsigned t = threadIdx.x, base = blockIdx.x * blockDim.x;
  buffer[t] = x[base + t];
  __syncthreads();
  y[base + t] = buffer[blockDim.x - 1 - t];
}

// Bug: no barrier between the shared write and the read, so threads read slots not yet written.
__global__ void reverse_block_unsynced_kernel(const float* x, float* y) {
  __shared__ float buffer[256];
  const unsigned t = threadIdx.x, base = blockIdx.x * blockDim.x;
  buffer[t] = x[base + t];
  y[base + t] = buffer[blockDim.x - 1 - t];
}

// Bug: a barrier inside a branch that divides the block.
__global__ void divergent_barrier_kernel(float* y) {
  if (threadIdx.x < blockDim.x / 2) {
    __syncthreads();
  }
  y[blockIdx.x * blockDim.x + threadIdx.x] = 1.0f;
}

// Bug: a full-mask shuffle that half of each warp never reaches.
__global__ void partial_warp_shuffle_kernel(int* y) {
  const int t = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (threadIdx.x % warpSize < 16) {
    y[t] = __shfl_xor_sync(0xffffffffu, t, 1);
  }
}

template <class T>
void reverse(const T* x, T* y, int blocks, int threads_per_block, std::size_t shared_bytes) {
  KILN_LAUNCH(reverse_block_kernel<T>, dim3(blocks), dim3(threads_per_block), shared_bytes, nullptr, x, y);
}

}  // namespace

void reverse_blocks(const float* x, float* y, int blocks, int threads_per_block) {
  reverse(x, y, blocks, threads_per_block, threads_per_block * sizeof(float));
}

void reverse_blocks(const double* x, double* y, int blocks, int threads_per_block) {
  reverse(x, y, blocks, threads_per_block, threads_per_block * sizeof(double));
}

void reverse_blocks_with_shared(const float* x, float* y, int blocks, int threads_per_block, int shared_bytes) {
  reverse(x, y, blocks, threads_per_block, static_cast<std::size_t>(shared_bytes));
}

void reverse_blocks_unsynced(const float* x, float* y, int blocks) {
  KILN_LAUNCH(reverse_block_unsynced_kernel, dim3(blocks), dim3(256), 0, nullptr, x, y);
}

void divergent_barrier(float* y, int threads_per_block) {
  KILN_LAUNCH(divergent_barrier_kernel, dim3(1), dim3(threads_per_block), 0, nullptr, y);
}

void partial_warp_shuffle(int* y, int threads_per_block) {
  KILN_LAUNCH(partial_warp_shuffle_kernel, dim3(1), dim3(threads_per_block), 0, nullptr, y);
}

}  // namespace kiln::simt::samples
