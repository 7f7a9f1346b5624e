// CUDA bilinear resizing: forward one thread per output pixel; backward a gather, one thread per input pixel summing
// the outputs that sample it (found from the index table's first/last runs), so no atomics and a fixed order.
#include "kernels/launch.h"
#include "kernels/resize.h"

namespace kiln::kernels::cuda {
namespace {

// One axis's sampling inside the device tables (layout in resize.h).
struct AxisSampling {
  const std::int32_t* low;
  const std::int32_t* high;
  const std::int32_t* first;
  const std::int32_t* last;
  const float* frac;
  std::int64_t in_size;
  std::int64_t out_size;
};

struct Sampling {
  AxisSampling rows, cols;
};

AxisSampling axis_sampling(const cpu::ResizeAxis<float>& axis, const std::int32_t* indices, const float* frac) {
  const std::int64_t out = axis.out_size();
  return {indices, indices + out, indices + 2 * out, indices + 2 * out + axis.in_size, frac, axis.in_size, out};
}

Sampling sampling_of(const cpu::ResizeAxis<float>& rows, const cpu::ResizeAxis<float>& cols,
                     const std::int32_t* index_table, const float* frac_table) {
  return {axis_sampling(rows, index_table, frac_table),
          axis_sampling(cols, index_table + 2 * (rows.out_size() + rows.in_size), frac_table + rows.out_size())};
}

// The weight of input position q in output o along one axis: the sum over the two taps that read q.
__device__ float axis_weight(const AxisSampling& axis, std::int64_t o, std::int64_t q) {
  const float frac = axis.frac[o];
  return (axis.low[o] == q ? 1.0f - frac : 0.0f) + (axis.high[o] == q ? frac : 0.0f);
}

// One thread per output pixel (p, i, j): blends its four taps with the CPU kernel's weights and order.
__global__ void resize_bilinear_forward_kernel(const float* x, float* y, std::int64_t planes, Sampling sampling) {
  const std::int64_t out_h = sampling.rows.out_size, out_w = sampling.cols.out_size, width = sampling.cols.in_size;
  const std::int64_t in_plane = sampling.rows.in_size * width;
  KILN_GRID_STRIDE_LOOP(index, planes * out_h * out_w) {
    const std::int64_t j = index % out_w, i = index / out_w % out_h, plane = index / (out_w * out_h);
    const float* in = x + plane * in_plane;
    const float frac_h = sampling.rows.frac[i], frac_w = sampling.cols.frac[j];
    const float* low_row = in + sampling.rows.low[i] * width;
    const float* high_row = in + sampling.rows.high[i] * width;
    const std::int64_t low_col = sampling.cols.low[j], high_col = sampling.cols.high[j];
    float value = 0.0f;
    value += (1 - frac_h) * (1 - frac_w) * low_row[low_col];
    value += (1 - frac_h) * frac_w * low_row[high_col];
    value += frac_h * (1 - frac_w) * high_row[low_col];
    value += frac_h * frac_w * high_row[high_col];
    y[index] = value;
  }
}

// One thread per input pixel (p, h, w): for each output row sampling h, the row weight times the sum along that row
// of column weight times dy over the output columns sampling w.
__global__ void resize_bilinear_backward_kernel(const float* dy, float* dx, std::int64_t planes, Sampling sampling) {
  const std::int64_t out_w = sampling.cols.out_size, out_plane = sampling.rows.out_size * out_w;
  const std::int64_t height = sampling.rows.in_size, width = sampling.cols.in_size;
  KILN_GRID_STRIDE_LOOP(index, planes * height * width) {
    const std::int64_t w = index % width, h = index / width % height, plane = index / (width * height);
    const float* grad_out = dy + plane * out_plane;
    float total = 0.0f;
    for (std::int64_t i = sampling.rows.first[h]; i < sampling.rows.last[h]; ++i) {
      float row_total = 0.0f;
      for (std::int64_t j = sampling.cols.first[w]; j < sampling.cols.last[w]; ++j) {
        row_total += axis_weight(sampling.cols, j, w) * grad_out[i * out_w + j];
      }
      total += axis_weight(sampling.rows, i, h) * row_total;
    }
    dx[index] = total;
  }
}

}  // namespace

void resize_bilinear_forward(const float* x, float* y, std::int64_t planes, const cpu::ResizeAxis<float>& rows,
                             const cpu::ResizeAxis<float>& cols, const std::int32_t* index_table,
                             const float* frac_table) {
  const std::int64_t n = planes * rows.out_size() * cols.out_size();
  KILN_LAUNCH(resize_bilinear_forward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, x, y, planes,
              sampling_of(rows, cols, index_table, frac_table));
}

void resize_bilinear_backward(const float* dy, float* dx, std::int64_t planes, const cpu::ResizeAxis<float>& rows,
                              const cpu::ResizeAxis<float>& cols, const std::int32_t* index_table,
                              const float* frac_table) {
  const std::int64_t n = planes * rows.in_size * cols.in_size;
  KILN_LAUNCH(resize_bilinear_backward_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, dy, dx, planes,
              sampling_of(rows, cols, index_table, frac_table));
}

}  // namespace kiln::kernels::cuda
