#pragma once
// Host entry points of the sample kernels in tests/simt/*.cu. Pointers are device (cudaMalloc) pointers; each
// function launches its kernel through KILN_LAUNCH and returns when it has run.
namespace kiln::simt::samples {

// y = max(x, 0) * scale, as float4s in a grid-stride loop; n is a multiple of 4.
void relu_scale4(const float* x, float* y, float scale, int n, int blocks, int threads_per_block);

// For each thread of a grid x block launch, at 6 * (linear block * threads per block + linear thread):
// threadIdx.x/y/z and blockIdx.x/y/z, each added atomically to zeros so a thread run twice shows.
void coordinates(unsigned* out, int grid_x, int grid_y, int grid_z, int block_x, int block_y, int block_z);

// c (m x n) = a (m x k) * b (k x n), row-major, with 32x32 shared-memory tiles and 1024-thread blocks.
void sgemm_tiled(const float* a, const float* b, float* c, int m, int n, int k);

// *sum += x[0] + ... + x[n-1]: warp shuffles, a shared slot per warp, one atomicAdd per block.
void block_sum(const float* x, float* sum, int n, int blocks, int threads_per_block);

// One block of `threads` threads writes warp_op_fields ints per thread at out[field * threads + thread]: votes,
// shuffles with widths, a shuffle scan and the __syncthreads_count/and/or results (listed in warp.cu).
constexpr int warp_op_fields = 18;
void warp_ops(int* out, int threads);

// Reverses each block's slice of x into y through dynamic shared memory (threads_per_block elements).
void reverse_blocks(const float* x, float* y, int blocks, int threads_per_block);
void reverse_blocks(const double* x, double* y, int blocks, int threads_per_block);
// Reverses through dynamic shared memory of shared_bytes bytes (at least threads_per_block floats).
void reverse_blocks_with_shared(const float* x, float* y, int blocks, int threads_per_block, int shared_bytes);

// Negative controls, each with a deliberate bug.
// reverse_blocks of 256-thread blocks with the __syncthreads between the shared write and read missing.
void reverse_blocks_unsynced(const float* x, float* y, int blocks);
// __syncthreads reached only by the first half of each block.
void divergent_barrier(float* y, int threads_per_block);
// A full-mask __shfl_xor_sync reached only by the lower half of each warp.
void partial_warp_shuffle(int* y, int threads_per_block);

}  // namespace kiln::simt::samples
