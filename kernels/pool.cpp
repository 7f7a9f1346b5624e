// CPU pooling kernels: one plane per task, windows precomputed per axis.
#include "kernels/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/parallel.h"

namespace kiln::kernels::cpu {
namespace {
constexpr std::int64_t grain_elements = 1 << 15;  // below this much work, threads cost more than they save

// Runs body(plane) for every plane, a contiguous block of planes per thread.
template <class Body>
void for_each_plane(std::int64_t planes, std::int64_t work_per_plane, Body body) {
  const std::int64_t grain = std::max<std::int64_t>(1, grain_elements / std::max<std::int64_t>(1, work_per_plane));
  parallel_for(0, planes, grain, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t plane = begin; plane < end; ++plane) body(plane);
  });
}

std::int64_t plane_work(const PoolAxis& rows, const PoolAxis& cols) {
  return rows.in_size * cols.in_size + rows.out_size() * cols.out_size();
}

// True when output o's window is [o * kernel, (o + 1) * kernel) for every o: no padding, stride = kernel.
bool non_overlapping_windows(const PoolAxis& axis, std::int64_t kernel) {
  for (std::size_t o = 0; o < axis.begin.size(); ++o) {
    const std::int64_t start = static_cast<std::int64_t>(o) * kernel;
    if (axis.begin[o] != start || axis.end[o] != start + kernel) return false;
  }
  return !axis.begin.empty();
}

template <class T>
T divisor_of(const PoolAxis& rows, const PoolAxis& cols, std::int64_t i, std::int64_t j,
             std::int64_t divisor_override) {
  const auto index_i = static_cast<std::size_t>(i), index_j = static_cast<std::size_t>(j);
  return static_cast<T>(divisor_override > 0 ? divisor_override : rows.extent[index_i] * cols.extent[index_j]);
}
}  // namespace

std::int64_t strided_pool_out_size(std::int64_t in_size, std::int64_t kernel, std::int64_t stride, std::int64_t pad,
                                   bool ceil_mode) {
  const std::int64_t span = in_size + 2 * pad - kernel + (ceil_mode ? stride - 1 : 0);
  std::int64_t out_size = span / stride + 1;
  if (ceil_mode && (out_size - 1) * stride >= in_size + pad) --out_size;
  return out_size;
}

PoolAxis strided_pool_axis(std::int64_t in_size, std::int64_t kernel, std::int64_t stride, std::int64_t pad,
                           bool ceil_mode, bool count_include_pad) {
  PoolAxis axis;
  axis.in_size = in_size;
  const std::int64_t out_size = strided_pool_out_size(in_size, kernel, stride, pad, ceil_mode);
  for (std::int64_t o = 0; o < out_size; ++o) {
    const std::int64_t start = o * stride - pad;
    const std::int64_t padded_end = std::min(start + kernel, in_size + pad);
    const std::int64_t begin = std::max<std::int64_t>(start, 0), end = std::min(padded_end, in_size);
    axis.begin.push_back(begin);
    axis.end.push_back(end);
    axis.extent.push_back(count_include_pad ? padded_end - start : end - begin);
  }
  return axis;
}

PoolAxis adaptive_pool_axis(std::int64_t in_size, std::int64_t out_size) {
  PoolAxis axis;
  axis.in_size = in_size;
  for (std::int64_t o = 0; o < out_size; ++o) {
    const std::int64_t begin = o * in_size / out_size;
    const std::int64_t end = ((o + 1) * in_size + out_size - 1) / out_size;
    axis.begin.push_back(begin);
    axis.end.push_back(end);
    axis.extent.push_back(end - begin);
  }
  return axis;
}

// The pair (a, b) of neighbours in a window row: the winner and whether it is b (the first maximum wins; a NaN wins,
// the last one).
template <class T>
bool second_wins(T a, T b) {
  return (b > a) | std::isnan(b);
}

// relu(x) as relu_forward computes it: a NaN becomes 0.
template <class T>
T relu_of(T x) {
  return x > T(0) ? x : T(0);
}

// 2x2 windows at stride 2 without padding, the common case: each window row's pair first, then the two rows (the top
// one wins ties): the same winner as a row-major scan, in branch-free loops over whole rows that the compiler
// vectorises (a scan per window is several times slower; its comparisons mispredict on activations). Relu pools
// relu(x): the same scan over values that hold no NaN, then argmax -1 where the winner is 0.
template <bool Relu, class T>
void max_pool2d_forward_2x2(const T* x, T* y, std::int32_t* argmax, std::int64_t planes, std::int64_t height,
                            std::int64_t width) {
  const std::int64_t out_h = height / 2, out_w = width / 2, in_plane = height * width;
  const std::int64_t grain = std::max<std::int64_t>(1, grain_elements / std::max<std::int64_t>(1, in_plane));
  parallel_for(0, planes, grain, [&](std::int64_t first_plane, std::int64_t end_plane) {
    // Local copies: stores through the argmax pointer could alias captured sizes and stop the vectoriser.
    const std::int64_t columns = out_w, line_width = width, rows = out_h;
    // The two window rows' pair winners, a block of output columns at a time (on the stack: nothing allocated).
    constexpr std::int64_t block = 64;
    T pair_best[2][block], relu_line[2 * block];
    std::int32_t second_in_pair[2][block];
    for (std::int64_t plane = first_plane; plane < end_plane; ++plane) {
      for (std::int64_t i = 0; i < rows; ++i) {
        for (std::int64_t j0 = 0; j0 < columns; j0 += block) {
          const std::int64_t count = std::min(block, columns - j0);
          for (std::int64_t r = 0; r < 2; ++r) {
            const T* input = x + plane * in_plane + (2 * i + r) * line_width + 2 * j0;
            // relu first, in its own loop: folded into the pair loop below, its selects on strided loads keep GCC
            // from vectorising that loop (twice as slow).
            if constexpr (Relu) {
              for (std::int64_t k = 0; k < 2 * count; ++k) relu_line[k] = relu_of(input[k]);
              input = relu_line;
            }
            const T* __restrict line = input;
            T* __restrict best = pair_best[r];
            std::int32_t* __restrict second = second_in_pair[r];
            for (std::int64_t j = 0; j < count; ++j) {
              const bool take = second_wins(line[2 * j], line[2 * j + 1]);
              best[j] = take ? line[2 * j + 1] : line[2 * j];
              second[j] = take;
            }
          }
          const std::int64_t offset = (plane * rows + i) * columns + j0;
          T* __restrict out = y + offset;
          std::int32_t* __restrict where = argmax + offset;
          const std::int64_t top_left = 2 * i * line_width + 2 * j0;
          for (std::int64_t j = 0; j < count; ++j) {
            const bool take = second_wins(pair_best[0][j], pair_best[1][j]);
            const T winner = take ? pair_best[1][j] : pair_best[0][j];
            const auto offset_in_plane = static_cast<std::int32_t>(
                top_left + 2 * j + (take ? line_width + second_in_pair[1][j] : second_in_pair[0][j]));
            out[j] = winner;
            where[j] = Relu && !(winner > T(0)) ? -1 : offset_in_plane;
          }
        }
      }
    }
  });
}

template <class T>
void max_pool2d_forward(const T* x, T* y, std::int32_t* argmax, std::int64_t planes, const PoolAxis& rows,
                        const PoolAxis& cols, bool relu) {
  const std::int64_t width = cols.in_size, in_plane = rows.in_size * width;
  const std::int64_t out_h = rows.out_size(), out_w = cols.out_size(), out_plane = out_h * out_w;
  if (non_overlapping_windows(rows, 2) && non_overlapping_windows(cols, 2)) {
    return relu ? max_pool2d_forward_2x2<true>(x, y, argmax, planes, rows.in_size, width)
                : max_pool2d_forward_2x2<false>(x, y, argmax, planes, rows.in_size, width);
  }
  for_each_plane(planes, plane_work(rows, cols), [&](std::int64_t plane) {
    const T* in = x + plane * in_plane;
    for (std::int64_t i = 0; i < out_h; ++i) {
      const auto row = static_cast<std::size_t>(i);
      for (std::int64_t j = 0; j < out_w; ++j) {
        const auto col = static_cast<std::size_t>(j);
        // The max of relu(x) starts from 0 with no winner, and only larger values win.
        T best = relu ? T(0) : -std::numeric_limits<T>::infinity();
        const std::int64_t col_begin = cols.begin[col], col_end = cols.end[col];
        std::int64_t best_index = relu ? -1 : rows.begin[row] * width + col_begin;
        for (std::int64_t h = rows.begin[row]; h < rows.end[row]; ++h) {
          const T* line = in + h * width;
          for (std::int64_t w = col_begin; w < col_end; ++w) {
            if (line[w] > best || (!relu && std::isnan(line[w]))) {  // a NaN wins and stays, as in PyTorch
              best = line[w];
              best_index = h * width + w;
            }
          }
        }
        const std::int64_t out_index = plane * out_plane + i * out_w + j;
        y[out_index] = best;
        argmax[out_index] = static_cast<std::int32_t>(best_index);
      }
    }
  });
}

template <class T>
void max_pool2d_backward(const T* dy, const std::int32_t* argmax, T* dx, std::int64_t planes,
                         std::int64_t in_plane_size, std::int64_t out_plane_size) {
  for_each_plane(planes, in_plane_size + out_plane_size, [&](std::int64_t plane) {
    T* grad_in = dx + plane * in_plane_size;
    std::fill(grad_in, grad_in + in_plane_size, T(0));
    const std::int64_t first = plane * out_plane_size;
    for (std::int64_t k = first; k < first + out_plane_size; ++k) {
      if (argmax[k] >= 0) grad_in[argmax[k]] += dy[k];
    }
  });
}

template <class T>
void avg_pool2d_forward(const T* x, T* y, std::int64_t planes, const PoolAxis& rows, const PoolAxis& cols,
                        std::int64_t divisor_override) {
  const std::int64_t width = cols.in_size, in_plane = rows.in_size * width;
  const std::int64_t out_h = rows.out_size(), out_w = cols.out_size();
  for_each_plane(planes, plane_work(rows, cols), [&](std::int64_t plane) {
    const T* in = x + plane * in_plane;
    T* out = y + plane * out_h * out_w;
    for (std::int64_t i = 0; i < out_h; ++i) {
      const auto row = static_cast<std::size_t>(i);
      for (std::int64_t j = 0; j < out_w; ++j) {
        const auto col = static_cast<std::size_t>(j);
        T total = 0;
        for (std::int64_t h = rows.begin[row]; h < rows.end[row]; ++h) {
          for (std::int64_t w = cols.begin[col]; w < cols.end[col]; ++w) total += in[h * width + w];
        }
        out[i * out_w + j] = total / divisor_of<T>(rows, cols, i, j, divisor_override);
      }
    }
  });
}

template <class T>
void avg_pool2d_backward(const T* dy, T* dx, std::int64_t planes, const PoolAxis& rows, const PoolAxis& cols,
                         std::int64_t divisor_override) {
  const std::int64_t width = cols.in_size, in_plane = rows.in_size * width;
  const std::int64_t out_h = rows.out_size(), out_w = cols.out_size();
  for_each_plane(planes, plane_work(rows, cols), [&](std::int64_t plane) {
    T* grad_in = dx + plane * in_plane;
    const T* grad_out = dy + plane * out_h * out_w;
    std::fill(grad_in, grad_in + in_plane, T(0));
    for (std::int64_t i = 0; i < out_h; ++i) {
      const auto row = static_cast<std::size_t>(i);
      for (std::int64_t j = 0; j < out_w; ++j) {
        const auto col = static_cast<std::size_t>(j);
        const T share = grad_out[i * out_w + j] / divisor_of<T>(rows, cols, i, j, divisor_override);
        for (std::int64_t h = rows.begin[row]; h < rows.end[row]; ++h) {
          for (std::int64_t w = cols.begin[col]; w < cols.end[col]; ++w) grad_in[h * width + w] += share;
        }
      }
    }
  });
}

#define KILN_INSTANTIATE(T)                                                                                       \
  template void max_pool2d_forward<T>(const T*, T*, std::int32_t*, std::int64_t, const PoolAxis&, const PoolAxis&,  \
                                      bool);                                                                      \
  template void max_pool2d_backward<T>(const T*, const std::int32_t*, T*, std::int64_t, std::int64_t, std::int64_t); \
  template void avg_pool2d_forward<T>(const T*, T*, std::int64_t, const PoolAxis&, const PoolAxis&, std::int64_t);   \
  template void avg_pool2d_backward<T>(const T*, T*, std::int64_t, const PoolAxis&, const PoolAxis&, std::int64_t);
KILN_INSTANTIATE(float)
KILN_INSTANTIATE(double)
#undef KILN_INSTANTIATE

}  // namespace kiln::kernels::cpu
