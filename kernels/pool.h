#pragma once
// 2-D pooling kernels over [planes, H, W] arrays (planes = N * C). A pool is described by its windows along each axis,
// so the strided (max_pool2d / avg_pool2d) and adaptive pools share the same kernels.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "kiln/pool_allocator.h"

namespace kiln::kernels::cpu {

// The windows of a pool along one axis: output index o reads input positions [begin[o], end[o]), clipped to the
// input and never empty; average pooling counts extent[o] positions toward its divisor. The tables are made per call,
// so they come from the pool allocator.
struct PoolAxis {
  std::int64_t in_size = 0;
  PoolVector<std::int64_t> begin, end, extent;
  std::int64_t out_size() const { return static_cast<std::int64_t>(begin.size()); }
};

// PyTorch's output size of a strided pool: floor((in + 2 pad - kernel) / stride) + 1, rounded up instead in ceil_mode
// unless that last window would start in the right padding. Needs kernel, stride > 0 and in + 2 pad >= kernel.
std::int64_t strided_pool_out_size(std::int64_t in_size, std::int64_t kernel, std::int64_t stride, std::int64_t pad,
                                   bool ceil_mode);
// Windows starting at o * stride - pad, kernel wide. As in PyTorch, extent counts the padding when count_include_pad
// (but not past the right padding, which a ceil_mode window may reach), else only the positions inside the input.
PoolAxis strided_pool_axis(std::int64_t in_size, std::int64_t kernel, std::int64_t stride, std::int64_t pad,
                           bool ceil_mode, bool count_include_pad);
// Windows [floor(o * in / out), ceil((o + 1) * in / out)), extent = their length.
PoolAxis adaptive_pool_axis(std::int64_t in_size, std::int64_t out_size);

// y[p, i, j] = max of x[p] over window (i, j); argmax[p, i, j] = the winner's offset h * W + w inside its plane (H * W
// must fit in int32). The first maximum wins ties and NaN wins over numbers, as in PyTorch.
// With relu, the max of relu(x) = (x > 0 ? x : 0) instead, the ReLU and the pool in one pass over x: y = the window's
// largest positive value (the first wins ties) or 0 where it has none (all <= 0 or NaN), with argmax -1 there, since
// such an output's gradient reaches no input (a ReLU's gradient is 0 where x <= 0).
template <class T>
void max_pool2d_forward(const T* x, T* y, std::int32_t* argmax, std::int64_t planes, const PoolAxis& rows,
                        const PoolAxis& cols, bool relu);
// dx = 0, then dx[p, argmax[p, i, j]] += dy[p, i, j] where argmax >= 0.
template <class T>
void max_pool2d_backward(const T* dy, const std::int32_t* argmax, T* dx, std::int64_t planes,
                         std::int64_t in_plane_size, std::int64_t out_plane_size);
// y[p, i, j] = sum of x[p] over window (i, j) / divisor, where divisor = divisor_override when > 0, else
// rows.extent[i] * cols.extent[j].
template <class T>
void avg_pool2d_forward(const T* x, T* y, std::int64_t planes, const PoolAxis& rows, const PoolAxis& cols,
                        std::int64_t divisor_override);
// dx = 0, then every dy[p, i, j] / divisor is added over its window.
template <class T>
void avg_pool2d_backward(const T* dy, T* dx, std::int64_t planes, const PoolAxis& rows, const PoolAxis& cols,
                         std::int64_t divisor_override);

}  // namespace kiln::kernels::cpu

// CUDA versions (float32, device pointers), in pool.cu. The host-built PoolAxis structs give the sizes; the windows
// reach the device as one int32 table, pool_window_table(rows, cols), that the caller copies there.
namespace kiln::kernels::cuda {

// Rows, then cols, each as begin, end, extent (out_size entries each), then first and last (in_size entries each):
// the outputs whose windows hold input position q are first[q] <= o < last[q] (a contiguous run, since begin and end
// never decrease along an axis). Needs every size to fit in int32. Host code, inline so that every build has it.
inline std::vector<std::int32_t> pool_window_table(const cpu::PoolAxis& rows, const cpu::PoolAxis& cols) {
  std::vector<std::int32_t> table;
  for (const cpu::PoolAxis* axis : {&rows, &cols}) {
    for (const auto* values : {&axis->begin, &axis->end, &axis->extent}) {
      for (const std::int64_t value : *values) table.push_back(static_cast<std::int32_t>(value));
    }
    // first[q]: the first window ending past q; last[q]: one past the last window beginning at or before q.
    const std::size_t out = axis->begin.size();
    std::vector<std::int32_t> first, last;
    std::size_t ended = 0, begun = 0;
    for (std::int64_t q = 0; q < axis->in_size; ++q) {
      while (ended < out && axis->end[ended] <= q) ++ended;
      while (begun < out && axis->begin[begun] <= q) ++begun;
      first.push_back(static_cast<std::int32_t>(ended));
      last.push_back(static_cast<std::int32_t>(begun));
    }
    table.insert(table.end(), first.begin(), first.end());
    table.insert(table.end(), last.begin(), last.end());
  }
  return table;
}

// As the CPU versions (the same int32 in-plane offsets h * W + w in argmax, -1 for relu outputs with no winner).
void max_pool2d_forward(const float* x, float* y, std::int32_t* argmax, std::int64_t planes,
                        const cpu::PoolAxis& rows, const cpu::PoolAxis& cols, const std::int32_t* window_table,
                        bool relu);
// dx[p, q] = the sum, in output order, of the dy[p, i, j] whose window holds q and whose argmax is q.
void max_pool2d_backward(const float* dy, const std::int32_t* argmax, float* dx, std::int64_t planes,
                         const cpu::PoolAxis& rows, const cpu::PoolAxis& cols, const std::int32_t* window_table);
void avg_pool2d_forward(const float* x, float* y, std::int64_t planes, const cpu::PoolAxis& rows,
                        const cpu::PoolAxis& cols, const std::int32_t* window_table, std::int64_t divisor_override);
// dx[p, q] = the sum, in output order, of dy[p, i, j] / divisor over the windows that hold q.
void avg_pool2d_backward(const float* dy, float* dx, std::int64_t planes, const cpu::PoolAxis& rows,
                         const cpu::PoolAxis& cols, const std::int32_t* window_table, std::int64_t divisor_override);

}  // namespace kiln::kernels::cuda
