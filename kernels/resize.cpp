// CPU bilinear resizing: one plane per task, the sampling of each axis precomputed.
#include "kernels/resize.h"

#include <algorithm>
#include <cmath>

#include "kernels/parallel.h"

namespace kiln::kernels::cpu {
namespace {
constexpr std::int64_t grain_elements = 1 << 15;  // below this much work, threads cost more than they save

// Runs body(plane) for every plane, a contiguous block of planes per thread.
template <class T, class Body>
void for_each_plane(std::int64_t planes, const ResizeAxis<T>& rows, const ResizeAxis<T>& cols, Body body) {
  const std::int64_t work = rows.in_size * cols.in_size + rows.out_size() * cols.out_size();
  parallel_for(0, planes, std::max<std::int64_t>(1, grain_elements / work),
               [&](std::int64_t begin, std::int64_t end) {
                 for (std::int64_t plane = begin; plane < end; ++plane) body(plane);
               });
}

// The four sources of output (i, j) inside one plane and their weights, shared by forward and backward.
template <class T>
struct Taps {
  std::int64_t offset[4];
  T weight[4];
};

template <class T>
Taps<T> taps_of(const ResizeAxis<T>& rows, const ResizeAxis<T>& cols, std::size_t i, std::size_t j) {
  const std::int64_t width = cols.in_size;
  const T frac_h = rows.frac[i], frac_w = cols.frac[j];
  return {{rows.low[i] * width + cols.low[j], rows.low[i] * width + cols.high[j], rows.high[i] * width + cols.low[j],
           rows.high[i] * width + cols.high[j]},
          {(1 - frac_h) * (1 - frac_w), (1 - frac_h) * frac_w, frac_h * (1 - frac_w), frac_h * frac_w}};
}
}  // namespace

// Source coordinate src of output index dst, computed in T as PyTorch and TensorFlow do:
//   align_corners: src = dst * (in - 1) / (out - 1), and src = 0 when out == 1 (PyTorch align_corners=True).
//   half_pixel:    src = max(0, (dst + 0.5) * in / out - 0.5) (PyTorch align_corners=False).
//   tf1_legacy:    src = dst * in / out, never negative (TensorFlow 1.x resize_bilinear, align_corners=False).
// Then low = floor(src) and high = low + 1, both clamped to in - 1, and frac = src - low, except that frac = 0 where
// the clamp makes high == low, so the output is exactly that input.
template <class T>
ResizeAxis<T> resize_axis(std::int64_t in_size, std::int64_t out_size, ResizeMode mode) {
  ResizeAxis<T> axis;
  axis.in_size = in_size;
  for (std::int64_t dst = 0; dst < out_size; ++dst) {
    T src = 0;
    switch (mode) {
      case ResizeMode::align_corners:
        src = out_size > 1 ? static_cast<T>(dst) * (static_cast<T>(in_size - 1) / static_cast<T>(out_size - 1)) : T(0);
        break;
      case ResizeMode::half_pixel:
        src = std::max(T(0), (static_cast<T>(dst) + T(0.5)) * (static_cast<T>(in_size) / static_cast<T>(out_size)) -
                                 T(0.5));
        break;
      case ResizeMode::tf1_legacy:
        src = static_cast<T>(dst) * (static_cast<T>(in_size) / static_cast<T>(out_size));
        break;
    }
    const std::int64_t low = std::min(static_cast<std::int64_t>(std::floor(src)), in_size - 1);
    const std::int64_t high = std::min(low + 1, in_size - 1);
    axis.low.push_back(low);
    axis.high.push_back(high);
    axis.frac.push_back(high == low ? T(0) : src - static_cast<T>(low));
  }
  return axis;
}

template <class T>
void resize_bilinear_forward(const T* x, T* y, std::int64_t planes, const ResizeAxis<T>& rows,
                             const ResizeAxis<T>& cols) {
  const std::int64_t in_plane = rows.in_size * cols.in_size, out_h = rows.out_size(), out_w = cols.out_size();
  for_each_plane(planes, rows, cols, [&](std::int64_t plane) {
    const T* in = x + plane * in_plane;
    T* out = y + plane * out_h * out_w;
    for (std::int64_t i = 0; i < out_h; ++i) {
      for (std::int64_t j = 0; j < out_w; ++j) {
        const Taps<T> taps = taps_of(rows, cols, static_cast<std::size_t>(i), static_cast<std::size_t>(j));
        T value = 0;
        for (int k = 0; k < 4; ++k) value += taps.weight[k] * in[taps.offset[k]];
        out[i * out_w + j] = value;
      }
    }
  });
}

template <class T>
void resize_bilinear_backward(const T* dy, T* dx, std::int64_t planes, const ResizeAxis<T>& rows,
                              const ResizeAxis<T>& cols) {
  const std::int64_t in_plane = rows.in_size * cols.in_size, out_h = rows.out_size(), out_w = cols.out_size();
  for_each_plane(planes, rows, cols, [&](std::int64_t plane) {
    T* grad_in = dx + plane * in_plane;
    const T* grad_out = dy + plane * out_h * out_w;
    std::fill(grad_in, grad_in + in_plane, T(0));
    for (std::int64_t i = 0; i < out_h; ++i) {
      for (std::int64_t j = 0; j < out_w; ++j) {
        const Taps<T> taps = taps_of(rows, cols, static_cast<std::size_t>(i), static_cast<std::size_t>(j));
        const T grad = grad_out[i * out_w + j];
        for (int k = 0; k < 4; ++k) grad_in[taps.offset[k]] += taps.weight[k] * grad;
      }
    }
  });
}

#define KILN_INSTANTIATE(T)                                                                                      \
  template ResizeAxis<T> resize_axis<T>(std::int64_t, std::int64_t, ResizeMode);                                 \
  template void resize_bilinear_forward<T>(const T*, T*, std::int64_t, const ResizeAxis<T>&, const ResizeAxis<T>&); \
  template void resize_bilinear_backward<T>(const T*, T*, std::int64_t, const ResizeAxis<T>&, const ResizeAxis<T>&);
KILN_INSTANTIATE(float)
KILN_INSTANTIATE(double)
#undef KILN_INSTANTIATE

}  // namespace kiln::kernels::cpu
