#pragma once
// The strided pools' argument checks and windows, shared with the ops that contain a pool (conv2d_relu_max_pool2d).
#include "kernels/pool.h"
#include "kiln/ops/pool.h"

namespace kiln::ops {

struct PoolWindows {
  kernels::cpu::PoolAxis rows, cols;
};

// Checks the options against an input of `shape` [N, C, H, W] (errors name `op`) and returns the pool's windows.
PoolWindows checked_strided_pool_windows(const char* op, const Shape& shape, const Pool2dOptions& options);

}  // namespace kiln::ops
