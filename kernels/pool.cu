// CUDA pooling: forward one thread per output element; backward a gather, one thread per input element summing the
// outputs whose windows hold it (found from the table's first/last runs), in the CPU's order, so no atomics and the
// same sums as the CPU kernels.
#include <cmath>

#include "kernels/launch.h"
#include "kernels/pool.h"

namespace kiln::kernels::cuda {
namespace {

// One axis's windows inside the device table (layout in pool.h).
struct AxisWindows {
  const std::int32_t* begin;
  const std::int32_t* end;
  const std::int32_t* extent;
  const std::int32_t* first;
  const std::int32_t* last;
  std::int64_t in_size;
  std::int64_t out_size;
};

struct Windows {
  AxisWindows rows, cols;
};

AxisWindows axis_windows(const cpu::PoolAxis& axis, const std::int32_t* table) {
  const std::int64_t out = axis.out_size();
  return {table, table + out, table + 2 * out, table + 3 * out, table + 3 * out + axis.in_size, axis.in_size, out};
}

Windows windows_of(const cpu::PoolAxis& rows, const cpu::PoolAxis& cols, const std::int32_t* table) {
  return {axis_windows(rows, table), axis_windows(cols, table + 3 * rows.out_size() + 2 * rows.in_size)};
}

__device__ float divisor_of(const Windows& windows, std::int64_t i, std::int64_t j, std::int64_t divisor_override) {
  return static_cast<float>(divisor_override > 0
                                ? divisor_override
                                : static_cast<std::int64_t>(windows.rows.extent[i]) * windows.cols.extent[j]);
}

// One thread per output element (p, i, j): scans its window in row-major order; the first maximum wins, NaN wins.
// With relu, the scan starts from 0 with no winner (-1), and only larger values win: the max of relu(x).
__global__ void max_pool2d_forward_kernel(const float* x, float* y, std::int32_t* argmax, std::int64_t planes,
                                          Windows windows, bool relu) {
  const std::int64_t out_h = windows.rows.out_size, out_w = windows.cols.out_size, width = windows.cols.in_size;
  const std::int64_t in_plane = windows.rows.in_size * width;
  KILN_GRID_STRIDE_LOOP(index, planes * out_h * out_w) {
    const std::int64_t j = index % out_w, i = index / out_w % out_h, plane = index / (out_w * out_h);
    const float* in = x + plane * in_plane;
    float best = relu ? 0.0f : -INFINITY;
    std::int64_t best_offset = relu ? -1 : windows.rows.begin[i] * width + windows.cols.begin[j];
    for (std::int64_t h = windows.rows.begin[i]; h < windows.rows.end[i]; ++h) {
      for (std::int64_t w = windows.cols.begin[j]; w < windows.cols.end[j]; ++w) {
        const float value = in[h * width + w];
        if (value > best || (!relu && std::isnan(value))) {
          best = value;
          best_offset = h * width + w;
        }
      }
    }
    y[index] = best;
    argmax[index] = static_cast<std::int32_t>(best_offset);
  }
}

// One thread per input element (p, h, w): sums dy over the windows holding it whose argmax points at it.
__global__ void max_pool2d_backward_kernel(const float* dy, const std::int32_t* argmax, float* dx,
                                           std::int64_t planes, Windows windows) {
  const std::int64_t out_w = windows.cols.out_size, out_plane = windows.rows.out_size * out_w;
  const std::int64_t height = windows.rows.in_size, width = windows.cols.in_size;
  KILN_GRID_STRIDE_LOOP(index, planes * height * width) {
    const std::int64_t w = index % width, h = index / width % height, plane = index / (width * height);
    const std::int32_t offset = static_cast<std::int32_t>(h * width + w);
    float total = 0.0f;
    for (std::int64_t i = windows.rows.first[h]; i < windows.rows.last[h]; ++i) {
      for (std::int64_t j = windows.cols.first[w]; j < windows.cols.last[w]; ++j) {
        const std::int64_t k = plane * out_plane + i * out_w + j;
        if (argmax[k] == offset) total += dy[k];
      }
    }
    dx[index] = total;
  }
}

// One thread per output element (p, i, j): sums its window in row-major order, then divides.
__global__ void avg_pool2d_forward_kernel(const float* x, float* y, std::int64_t planes, Windows windows,
                                          std::int64_t divisor_override) {
  const std::int64_t out_h = windows.rows.out_size, out_w = windows.cols.out_size, width = windows.cols.in_size;
  const std::int64_t in_plane = windows.rows.in_size * width;
  KILN_GRID_STRIDE_LOOP(index, planes * out_h * out_w) {
    const std::int64_t j = index % out_w, i = index / out_w % out_h, plane = index / (out_w * out_h);
    const float* in = x + plane * in_plane;
    float total = 0.0f;
    for (std::int64_t h = windows.rows.begin[i]; h < windows.rows.end[i]; ++h) {
      for (std::int64_t w = windows.cols.begin[j]; w < windows.cols.end[j]; ++w) total += in[h * width + w];
    }
    y[index] = total / divisor_of(windows, i, j, divisor_override);
  }
}

// One thread per input element (p, h, w): sums dy / divisor over the windows holding it.
__global__ void avg_pool2d_backward_kernel(const float* dy, float* dx, std::int64_t planes, Windows windows,
                                           std::int64_t divisor_override) {
  const std::int64_t out_w = windows.cols.out_size, out_plane = windows.rows.out_size * out_w;
  const std::int64_t height = windows.rows.in_size, width = windows.cols.in_size;
  KILN_GRID_STRIDE_LOOP(index, planes * height * width) {
    const std::int64_t w = index % width, h = index / width % height, plane = index / (width * height);
    const float* grad_out = dy + plane * out_plane;
    float total = 0.0f;
    for (std::int64_t i = windows.rows.first[h]; i < windows.rows.last[h]; ++i) {
      for (std::int64_t j = windows.cols.first[w]; j < windows.cols.last[w]; ++j) {
        total += grad_out[i * out_w + j] / divisor_of(windows, i, j, divisor_override);
      }
    }
    dx[index] = total;
  }
}

}  // namespace

void max_pool2d_forward(const float* x, float* y, std::int32_t* argmax, std::int64_t planes,
                        const cpu::PoolAxis& rows, const cpu::PoolAxis& cols, const std::int32_t* window_table,
                        bool relu) {
  const std::int64_t n = planes * rows.out_size() * cols.out_size();
  KILN_LAUNCH(max_pool2d_forward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, x, y, argmax, planes,
              windows_of(rows, cols, window_table), relu);
}

void max_pool2d_backward(const float* dy, const std::int32_t* argmax, float* dx, std::int64_t planes,
                         const cpu::PoolAxis& rows, const cpu::PoolAxis& cols, const std::int32_t* window_table) {
  const std::int64_t n = planes * rows.in_size * cols.in_size;
  KILN_LAUNCH(max_pool2d_backward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, dy, argmax, dx, planes,
              windows_of(rows, cols, window_table));
}

void avg_pool2d_forward(const float* x, float* y, std::int64_t planes, const cpu::PoolAxis& rows,
                        const cpu::PoolAxis& cols, const std::int32_t* window_table, std::int64_t divisor_override) {
  const std::int64_t n = planes * rows.out_size() * cols.out_size();
  KILN_LAUNCH(avg_pool2d_forward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, x, y, planes,
              windows_of(rows, cols, window_table), divisor_override);
}

void avg_pool2d_backward(const float* dy, float* dx, std::int64_t planes, const cpu::PoolAxis& rows,
                         const cpu::PoolAxis& cols, const std::int32_t* window_table, std::int64_t divisor_override) {
  const std::int64_t n = planes * rows.in_size * cols.in_size;
  KILN_LAUNCH(avg_pool2d_backward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, dy, dx, planes,
              windows_of(rows, cols, window_table), divisor_override);
}

}  // namespace kiln::kernels::cuda
