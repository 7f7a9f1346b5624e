// Sample kernel: warp votes, shuffles with widths and block-wide barrier counts, one int per thread and field.
#include "kernels/simt/cuda_compat.h"
#include "tests/simt/samples.h"

namespace kiln::simt::samples {
namespace {

constexpr unsigned full_mask = 0xffffffffu;

// Sources stay within the lanes a partial last warp has, since reading a missing lane is undefined.
__global__ void warp_ops_kernel(int* out) {
  const int n = static_cast<int>(blockDim.x), t = static_cast<int>(threadIdx.x), lane = t % warpSize;
  const int v = 100 + lane;
  int* field = out + t;
  field[0 * n] = static_cast<int>(__ballot_sync(full_mask, lane % 3 == 0));
  field[1 * n] = __any_sync(full_mask, lane == 17);
  field[2 * n] = __any_sync(full_mask, 0);
  field[3 * n] = __all_sync(full_mask, lane < 31);
  field[4 * n] = __all_sync(full_mask, 1);
  field[5 * n] = __shfl_sync(full_mask, v, 3, 8);
  field[6 * n] = __shfl_sync(full_mask, v, lane / 2);
  field[7 * n] = __shfl_up_sync(full_mask, v, 1, 8);
  field[8 * n] = __shfl_up_sync(full_mask, v, 3);
  field[9 * n] = __shfl_down_sync(full_mask, v, 5, 16);
  field[10 * n] = __shfl_xor_sync(full_mask, v, 5);
  field[11 * n] = __shfl_xor_sync(full_mask, v, 9, 8);
  int scan = lane + 1;
  for (int offset = 1; offset < warpSize; offset *= 2) {
    const int other = __shfl_up_sync(full_mask, scan, offset);
    if (lane >= offset) {
      scan += other;
    }
    __syncwarp();
  }
  field[12 * n] = scan;
  // Two disjoint groups in one warp, each with its own mask.
  const unsigned half_ballot = lane < 16 ? __ballot_sync(0x0000ffffu, lane & 1) : __ballot_sync(0xffff0000u, lane & 2);
  field[13 * n] = static_cast<int>(half_ballot);
  field[14 * n] = static_cast<int>((__shfl_xor_sync(full_mask, 1e9 + 1.5 * lane, 1) - 1e9) * 2.0);
  field[15 * n] = __syncthreads_count(t % 5 == 0);
  field[16 * n] = __syncthreads_and(t != 7);
  field[17 * n] = __syncthreads_or(t == n - 1);
}

}  // namespace

void warp_ops(int* out, int threads) { KILN_LAUNCH(warp_ops_kernel, dim3(1), dim3(threads), 0, nullptr, out); }

}  // namespace kiln::simt::samples
