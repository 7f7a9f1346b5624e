#pragma once
// Bilinear resizing kernels over [planes, H, W] arrays (planes = N * C). Rows and columns are interpolated
// separately, each described by where its output positions sample the input.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "kiln/resize_mode.h"
#include "kiln/pool_allocator.h"

namespace kiln::kernels::cpu {

// Output index o of one axis blends input positions low[o] and high[o] with weights 1 - frac[o] and frac[o]. Made per
// call, so the tables come from the pool allocator.
template <class T>
struct ResizeAxis {
  std::int64_t in_size = 0;
  PoolVector<std::int64_t> low, high;
  PoolVector<T> frac;
  std::int64_t out_size() const { return static_cast<std::int64_t>(low.size()); }
};

// The sampling of one axis resized from in_size to out_size (both > 0) under `mode`.
template <class T>
ResizeAxis<T> resize_axis(std::int64_t in_size, std::int64_t out_size, ResizeMode mode);

// y[p, i, j] = the bilinear blend of x[p] at (rows[i], cols[j]).
template <class T>
void resize_bilinear_forward(const T* x, T* y, std::int64_t planes, const ResizeAxis<T>& rows,
                             const ResizeAxis<T>& cols);
// dx = 0, then every dy[p, i, j] is added to its four sources with the forward's weights.
template <class T>
void resize_bilinear_backward(const T* dy, T* dx, std::int64_t planes, const ResizeAxis<T>& rows,
                              const ResizeAxis<T>& cols);

}  // namespace kiln::kernels::cpu

// CUDA versions (float32, device pointers), in resize.cu. The host-built ResizeAxis structs give the sizes; the
// sampling reaches the device as two tables, resize_index_table and resize_frac_table, that the caller copies there.
namespace kiln::kernels::cuda {

// Rows, then cols, each as low, high (out_size entries each), then first and last (in_size entries each): the
// outputs that sample input position q are first[q] <= o < last[q] (those with low <= q <= high: a contiguous run,
// since low and high never decrease along an axis). Needs every size to fit in int32. Host code, inline so that
// every build has it.
inline std::vector<std::int32_t> resize_index_table(const cpu::ResizeAxis<float>& rows,
                                                    const cpu::ResizeAxis<float>& cols) {
  std::vector<std::int32_t> table;
  for (const cpu::ResizeAxis<float>* axis : {&rows, &cols}) {
    for (const auto* values : {&axis->low, &axis->high}) {
      for (const std::int64_t value : *values) table.push_back(static_cast<std::int32_t>(value));
    }
    // first[q]: the first output with high >= q; last[q]: one past the last output with low <= q.
    const std::size_t out = axis->low.size();
    std::vector<std::int32_t> first, last;
    std::size_t below = 0, reached = 0;
    for (std::int64_t q = 0; q < axis->in_size; ++q) {
      while (below < out && axis->high[below] < q) ++below;
      while (reached < out && axis->low[reached] <= q) ++reached;
      first.push_back(static_cast<std::int32_t>(below));
      last.push_back(static_cast<std::int32_t>(reached));
    }
    table.insert(table.end(), first.begin(), first.end());
    table.insert(table.end(), last.begin(), last.end());
  }
  return table;
}

// Rows' frac, then cols' frac.
inline std::vector<float> resize_frac_table(const cpu::ResizeAxis<float>& rows, const cpu::ResizeAxis<float>& cols) {
  std::vector<float> table(rows.frac.begin(), rows.frac.end());
  table.insert(table.end(), cols.frac.begin(), cols.frac.end());
  return table;
}

void resize_bilinear_forward(const float* x, float* y, std::int64_t planes, const cpu::ResizeAxis<float>& rows,
                             const cpu::ResizeAxis<float>& cols, const std::int32_t* index_table,
                             const float* frac_table);
// dx[p, h, w] = the sum of dy[p, i, j] times the forward's weight of (h, w) in output (i, j), over the outputs that
// sample (h, w).
void resize_bilinear_backward(const float* dy, float* dx, std::int64_t planes, const cpu::ResizeAxis<float>& rows,
                              const cpu::ResizeAxis<float>& cols, const std::int32_t* index_table,
                              const float* frac_table);

}  // namespace kiln::kernels::cuda
