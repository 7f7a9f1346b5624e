// CPU convolution: im2col + gemm per image, images split over threads, one column buffer per thread.
#include "kernels/conv2d.h"

#include <algorithm>
#include <vector>

#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/parallel.h"

namespace kiln::kernels::cpu {
namespace {

struct Span {
  std::int64_t begin, end;
};

// The output positions o in [0, out) whose input index o * stride - pad + offset lies inside [0, size), so the inner
// loops need no bounds test.
Span valid_outputs(std::int64_t size, std::int64_t out, std::int64_t stride, std::int64_t pad, std::int64_t offset) {
  const std::int64_t shift = pad - offset;  // valid: shift <= o * stride <= size - 1 + shift
  const std::int64_t first = shift <= 0 ? 0 : (shift + stride - 1) / stride;
  const std::int64_t last_input = size - 1 + shift;
  const std::int64_t end = last_input < 0 ? 0 : last_input / stride + 1;
  const std::int64_t begin = std::min(first, out);
  return {begin, std::clamp(end, begin, out)};
}

// Calls visit(column_index, image_index, count) for every run of `count` column entries that read pixels (not
// padding), the pixels `stride_w` apart, and skip(column_begin, column_end) for each run of entries that read padding.
// Whole runs, not single entries, so that the stride-1 case is a plain copy the compiler vectorises.
template <class Visit, class Skip>
void for_each_column_run(const Conv2dGeometry& geometry, Visit visit, Skip skip) {
  const std::int64_t out_h = geometry.out_height(), out_w = geometry.out_width();
  std::int64_t row_start = 0;
  for (std::int64_t c = 0; c < geometry.channels; ++c) {
    for (std::int64_t r = 0; r < geometry.kernel_h; ++r) {
      const Span rows = valid_outputs(geometry.height, out_h, geometry.stride_h, geometry.pad_h, r);
      for (std::int64_t s = 0; s < geometry.kernel_w; ++s, row_start += out_h * out_w) {
        const Span cols = valid_outputs(geometry.width, out_w, geometry.stride_w, geometry.pad_w, s);
        skip(row_start, row_start + rows.begin * out_w);
        for (std::int64_t oh = rows.begin; oh < rows.end; ++oh) {
          const std::int64_t column_row = row_start + oh * out_w;
          const std::int64_t pixel_row = (c * geometry.height + oh * geometry.stride_h - geometry.pad_h + r) *
                                             geometry.width - geometry.pad_w + s;
          skip(column_row, column_row + cols.begin);
          visit(column_row + cols.begin, pixel_row + cols.begin * geometry.stride_w, cols.end - cols.begin);
          skip(column_row + cols.end, column_row + out_w);
        }
        skip(row_start + rows.end * out_w, row_start + out_h * out_w);
      }
    }
  }
}

// The column matrix of one image: the image itself for pointwise convolutions, else im2col into `buffer` (sized on
// first use, then reused for the thread's next images).
template <class T>
const T* image_columns(const T* image, const Conv2dGeometry& geometry, std::vector<T>& buffer) {
  if (geometry.is_pointwise()) return image;
  buffer.resize(static_cast<std::size_t>(geometry.column_rows() * geometry.column_cols()));
  im2col(image, geometry, buffer.data());
  return buffer.data();
}

}  // namespace

template <class T>
void im2col(const T* image, const Conv2dGeometry& geometry, T* columns) {
  const std::int64_t stride = geometry.stride_w;
  for_each_column_run(
      geometry,
      [&](std::int64_t column, std::int64_t pixel, std::int64_t count) {
        T* out = columns + column;
        const T* in = image + pixel;
        if (stride == 1) {
          std::copy_n(in, count, out);
        } else {
          for (std::int64_t k = 0; k < count; ++k) out[k] = in[k * stride];
        }
      },
      [&](std::int64_t begin, std::int64_t end) { std::fill(columns + begin, columns + end, T(0)); });
}

template <class T>
void col2im(const T* columns, const Conv2dGeometry& geometry, T* image) {
  std::fill(image, image + geometry.channels * geometry.height * geometry.width, T(0));
  const std::int64_t stride = geometry.stride_w;
  for_each_column_run(
      geometry,
      [&](std::int64_t column, std::int64_t pixel, std::int64_t count) {
        const T* in = columns + column;
        T* out = image + pixel;
        for (std::int64_t k = 0; k < count; ++k) out[k * stride] += in[k];
      },
      [](std::int64_t, std::int64_t) {});
}

template <class T>
void conv2d_forward(const T* x, const T* weight, const T* bias, T* y, std::int64_t batch, std::int64_t out_channels,
                    const Conv2dGeometry& geometry) {
  const std::int64_t rows = geometry.column_rows(), cols = geometry.column_cols();
  const std::int64_t image_size = geometry.channels * geometry.height * geometry.width;
  parallel_for(0, batch, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<T> buffer;
    for (std::int64_t n = begin; n < end; ++n) {
      const T* columns = image_columns(x + n * image_size, geometry, buffer);
      T* out = y + n * out_channels * cols;
      // y_n [out_channels, cols] = weight [out_channels, rows] * columns [rows, cols]
      gemm(false, false, out_channels, cols, rows, T(1), weight, rows, columns, cols, T(0), out, cols);
      if (bias != nullptr) bias_add_forward(out, bias, out, 1, out_channels, cols);
    }
  });
}

template <class T>
void conv2d_backward_data(const T* dy, const T* weight, T* dx, std::int64_t batch, std::int64_t out_channels,
                          const Conv2dGeometry& geometry) {
  const std::int64_t rows = geometry.column_rows(), cols = geometry.column_cols();
  const std::int64_t image_size = geometry.channels * geometry.height * geometry.width;
  const bool pointwise = geometry.is_pointwise();
  parallel_for(0, batch, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<T> columns(pointwise ? 0 : static_cast<std::size_t>(rows * cols));
    for (std::int64_t n = begin; n < end; ++n) {
      T* image = dx + n * image_size;
      // columns [rows, cols] = weight^T [rows, out_channels] * dy_n [out_channels, cols]
      gemm(true, false, rows, cols, out_channels, T(1), weight, rows, dy + n * out_channels * cols, cols, T(0),
           pointwise ? image : columns.data(), cols);
      if (!pointwise) col2im(columns.data(), geometry, image);
    }
  });
}

template <class T>
void conv2d_backward_weight(const T* x, const T* dy, T* dweight, std::int64_t batch, std::int64_t out_channels,
                            const Conv2dGeometry& geometry) {
  const std::int64_t rows = geometry.column_rows(), cols = geometry.column_cols();
  const std::int64_t image_size = geometry.channels * geometry.height * geometry.width;
  const std::int64_t weight_size = out_channels * rows;
  // Images are split into chunks here (not by parallel_for) so each chunk's partial sum has a fixed slot and the
  // slots are added in chunk order: the result does not depend on thread timing.
  const std::int64_t chunks =
      std::max<std::int64_t>(1, std::min<std::int64_t>(batch, in_parallel_region() ? 1 : num_threads()));
  const std::int64_t images_per_chunk = (batch + chunks - 1) / chunks;
  std::vector<T> partials(static_cast<std::size_t>((chunks - 1) * weight_size));  // chunk 0 sums into dweight
  parallel_for(0, chunks, 1, [&](std::int64_t chunk_begin, std::int64_t chunk_end) {
    std::vector<T> buffer;
    for (std::int64_t chunk = chunk_begin; chunk < chunk_end; ++chunk) {
      T* sum = chunk == 0 ? dweight : partials.data() + (chunk - 1) * weight_size;
      std::fill(sum, sum + weight_size, T(0));
      const std::int64_t first = chunk * images_per_chunk, last = std::min(batch, first + images_per_chunk);
      for (std::int64_t n = first; n < last; ++n) {
        const T* columns = image_columns(x + n * image_size, geometry, buffer);
        // sum [out_channels, rows] += dy_n [out_channels, cols] * columns^T [cols, rows]
        gemm(false, true, out_channels, rows, cols, T(1), dy + n * out_channels * cols, cols, columns, cols, T(1), sum,
             rows);
      }
    }
  });
  for (std::int64_t chunk = 1; chunk < chunks; ++chunk) {
    const T* partial = partials.data() + (chunk - 1) * weight_size;
    for (std::int64_t i = 0; i < weight_size; ++i) dweight[i] += partial[i];
  }
}

#define KILN_INSTANTIATE(T)                                                                                        \
  template void im2col<T>(const T*, const Conv2dGeometry&, T*);                                                    \
  template void col2im<T>(const T*, const Conv2dGeometry&, T*);                                                    \
  template void conv2d_forward<T>(const T*, const T*, const T*, T*, std::int64_t, std::int64_t,                    \
                                  const Conv2dGeometry&);                                                          \
  template void conv2d_backward_data<T>(const T*, const T*, T*, std::int64_t, std::int64_t, const Conv2dGeometry&); \
  template void conv2d_backward_weight<T>(const T*, const T*, T*, std::int64_t, std::int64_t, const Conv2dGeometry&);
KILN_INSTANTIATE(float)
KILN_INSTANTIATE(double)
#undef KILN_INSTANTIATE

}  // namespace kiln::kernels::cpu
