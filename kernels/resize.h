#pragma once
// Bilinear resizing kernels over [planes, H, W] arrays (planes = N * C). Rows and columns are interpolated
// separately, each described by where its output positions sample the input.
#include <cstdint>
#include <vector>

#include "kiln/ops/resize.h"

namespace kiln::kernels::cpu {

// Output index o of one axis blends input positions low[o] and high[o] with weights 1 - frac[o] and frac[o].
template <class T>
struct ResizeAxis {
  std::int64_t in_size = 0;
  std::vector<std::int64_t> low, high;
  std::vector<T> frac;
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
