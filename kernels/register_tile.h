#pragma once
// The inner step shared by kiln's tiled GEMM-shaped kernels (gemm.cu, conv2d.cu): each thread multiplies a 4-wide
// column of the A slice by a 4-wide row of the B slice for every k of the stage, into its 4x4 register block.
#include "kernels/simt/cuda_compat.h"

namespace kiln::kernels::cuda {

// a_slice[kk][row..row+3] and b_slice[kk][col..col+3] for kk < TileK; rows of RowLength floats, 16-byte aligned.
template <int TileK, int RowLength>
__device__ inline void accumulate_register_tile(const float (&a_slice)[TileK][RowLength],
                                                const float (&b_slice)[TileK][RowLength], int row, int col,
                                                float (&acc)[4][4]) {
  for (int kk = 0; kk < TileK; ++kk) {
    const float4 av = *reinterpret_cast<const float4*>(&a_slice[kk][row]);
    const float4 bv = *reinterpret_cast<const float4*>(&b_slice[kk][col]);
    const float a_col[4] = {av.x, av.y, av.z, av.w}, b_row[4] = {bv.x, bv.y, bv.z, bv.w};
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(a_col[i], b_row[j], acc[i][j]);
    }
  }
}

}  // namespace kiln::kernels::cuda
