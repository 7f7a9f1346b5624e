// CPU convolution: im2col + gemm (wide columns for stride-1 unpadded kernels), small images a few to a gemm, groups
// of images split over threads, one column buffer per thread.
#include "kernels/conv2d.h"

#include <algorithm>
#include <cstring>

#include "kernels/gemm.h"
#include "kernels/host_scratch.h"
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
// Whole runs, not single entries, so that the stride-1 case is a plain copy the compiler vectorises. Column row k
// starts at k * row_pitch.
template <class Visit, class Skip>
void for_each_column_run(const Conv2dGeometry& geometry, std::int64_t row_pitch, Visit visit, Skip skip) {
  const std::int64_t out_h = geometry.out_height(), out_w = geometry.out_width();
  std::int64_t row_start = 0;
  for (std::int64_t c = 0; c < geometry.channels; ++c) {
    for (std::int64_t r = 0; r < geometry.kernel_h; ++r) {
      const Span rows = valid_outputs(geometry.height, out_h, geometry.stride_h, geometry.pad_h, r);
      for (std::int64_t s = 0; s < geometry.kernel_w; ++s, row_start += row_pitch) {
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

// Copies an im2col run, typically one output row of 10 to 60 values: in fixed-size blocks, which compile to a few
// vector moves, because a memcpy call per run (what std::copy_n becomes) costs more than the copy.
template <class T>
void copy_short_run(const T* in, std::int64_t count, T* out) {
  constexpr std::int64_t block = 32 / sizeof(T);
  if (count < block) {
    for (std::int64_t k = 0; k < count; ++k) out[k] = in[k];
    return;
  }
  for (std::int64_t k = 0; k + block <= count; k += block) std::memcpy(out + k, in + k, sizeof(T) * block);
  // The last block ends at the run's end, overlapping the one before (the same values, written twice).
  std::memcpy(out + count - block, in + count - block, sizeof(T) * block);
}

// How a call lays out one image's column matrix. A stride-1 unpadded convolution uses wide columns: column
// p = oh * width + ow, as if each output row were as wide as the input, so that column row (c, r, s) is one contiguous
// piece of input channel c starting at (r, s), copied whole instead of as out_height short runs. The last
// kernel_w - 1 columns of each output row are junk: dropped from the output, and zero in the gathered output
// gradients, so that they add nothing to either gradient. That saves copies only where the columns outweigh the
// output (dropping the junk means copying the output once more): at least two column rows per output channel. Other
// convolutions use im2col's columns.
struct ColumnLayout {
  bool wide;
  std::int64_t cols;  // per image
};

ColumnLayout column_layout(const Conv2dGeometry& geometry, std::int64_t out_channels) {
  const bool wide = geometry.stride_h == 1 && geometry.stride_w == 1 && geometry.pad_h == 0 && geometry.pad_w == 0 &&
                    !geometry.is_pointwise() && geometry.column_rows() >= 2 * out_channels;
  // The last wide column reads pixel (height - 1, width - 1): no row runs past its channel.
  return {wide, wide ? (geometry.out_height() - 1) * geometry.width + geometry.out_width() : geometry.column_cols()};
}

// Small images' column matrices go side by side so that one gemm gets at least this many columns: OpenBLAS pays per
// call for packing and for the partial tiles at a matrix's edge, which dominate at, say, 11x11 outputs. Large images
// go one at a time (their columns already fill a gemm, and a bigger buffer would leave the cache).
constexpr std::int64_t min_gemm_columns = 1024;

std::int64_t images_per_gemm(const ColumnLayout& layout) {
  return std::max<std::int64_t>(1, min_gemm_columns / std::max<std::int64_t>(1, layout.cols));
}

// A group of `count` images starting at image `first`, the unit of one gemm.
struct ImageGroup {
  std::int64_t first, count;
};

// Runs body(group) for every group of up to images_per_gemm(layout) consecutive images of [begin, end).
template <class Body>
void for_each_group(std::int64_t begin, std::int64_t end, const ColumnLayout& layout, Body body) {
  const std::int64_t size = images_per_gemm(layout);
  for (std::int64_t first = begin; first < end; first += size) body(ImageGroup{first, std::min(size, end - first)});
}

// A call's images split into runs of whole groups, one run per thread.
struct RunPlan {
  std::int64_t runs, images_per_run;
};

RunPlan plan_runs(std::int64_t batch, const ColumnLayout& layout) {
  const std::int64_t size = images_per_gemm(layout), groups = (batch + size - 1) / size;
  const std::int64_t threads = in_parallel_region() ? 1 : num_threads();
  const std::int64_t runs = std::max<std::int64_t>(1, std::min(groups, threads));
  return {runs, (groups + runs - 1) / runs * size};
}

// One run's working memory, each part sized for a full group: the column matrices, the gathered output gradients
// and a grouped gemm's output.
template <class T>
struct RunBuffers {
  T *columns, *gradients, *output;
};

// One run's working memory, in elements.
std::int64_t run_elements(std::int64_t out_channels, const Conv2dGeometry& geometry, const ColumnLayout& layout) {
  const std::int64_t pitch = images_per_gemm(layout) * layout.cols;
  return (geometry.column_rows() + 2 * out_channels) * pitch;
}

// Calls body(run, begin, end, buffers) for every run of the plan (its images [begin, end), possibly none), the runs
// spread over threads. All runs' buffers are one block reserved by the calling thread: the same size on every call
// with these shapes, so the caching allocator serves it from its cache whichever threads take the runs. A caller's
// workspace (conv2d.h), for a plan of one run, replaces that block.
template <class T, class Body>
void for_each_run(const RunPlan& plan, std::int64_t batch, std::int64_t out_channels, const Conv2dGeometry& geometry,
                  const ColumnLayout& layout, T* workspace, Body body) {
  const std::int64_t pitch = images_per_gemm(layout) * layout.cols;
  const std::int64_t column_elements = geometry.column_rows() * pitch, row_elements = out_channels * pitch;
  const std::int64_t run_size = run_elements(out_channels, geometry, layout);
  HostScratch<T> scratch;
  T* base = workspace != nullptr && plan.runs == 1 ? workspace
                                                   : scratch.reserve(static_cast<std::size_t>(plan.runs * run_size));
  parallel_for(0, plan.runs, 1, [&](std::int64_t run_begin, std::int64_t run_end) {
    for (std::int64_t run = run_begin; run < run_end; ++run) {
      T* slice = base + run * run_size;
      const RunBuffers<T> buffers{slice, slice + column_elements, slice + column_elements + row_elements};
      body(run, std::min(batch, run * plan.images_per_run), std::min(batch, (run + 1) * plan.images_per_run),
           buffers);
    }
  });
}

// image -> its wide columns (see ColumnLayout), row k at columns + k * row_pitch.
template <class T>
void wide_im2col(const T* image, const Conv2dGeometry& geometry, std::int64_t cols, T* columns,
                 std::int64_t row_pitch) {
  for (std::int64_t c = 0, k = 0; c < geometry.channels; ++c) {
    for (std::int64_t r = 0; r < geometry.kernel_h; ++r) {
      for (std::int64_t s = 0; s < geometry.kernel_w; ++s, ++k) {
        std::copy_n(image + (c * geometry.height + r) * geometry.width + s, cols, columns + k * row_pitch);
      }
    }
  }
}

// The adjoint of wide_im2col: image = 0, then every wide column entry added to the pixel it was read from.
template <class T>
void wide_col2im(const T* columns, const Conv2dGeometry& geometry, std::int64_t cols, T* image,
                 std::int64_t row_pitch) {
  std::fill(image, image + geometry.channels * geometry.height * geometry.width, T(0));
  for (std::int64_t c = 0, k = 0; c < geometry.channels; ++c) {
    for (std::int64_t r = 0; r < geometry.kernel_h; ++r) {
      for (std::int64_t s = 0; s < geometry.kernel_w; ++s, ++k) {
        T* out = image + (c * geometry.height + r) * geometry.width + s;
        const T* in = columns + k * row_pitch;
        for (std::int64_t p = 0; p < cols; ++p) out[p] += in[p];
      }
    }
  }
}

// The column matrices of a group's images side by side, [column_rows, count * layout.cols]: a single pointwise image
// is its own column matrix; otherwise im2col into `buffer`.
template <class T>
const T* group_columns(const T* x, const Conv2dGeometry& geometry, const ColumnLayout& layout, ImageGroup group,
                       T* buffer) {
  const std::int64_t image_size = geometry.channels * geometry.height * geometry.width;
  const std::int64_t pitch = group.count * layout.cols;
  if (group.count == 1 && geometry.is_pointwise()) return x + group.first * image_size;
  for (std::int64_t g = 0; g < group.count; ++g) {
    const T* image = x + (group.first + g) * image_size;
    T* columns = buffer + g * layout.cols;
    if (layout.wide) {
      wide_im2col(image, geometry, layout.cols, columns, pitch);
    } else {
      im2col(image, geometry, columns, pitch);
    }
  }
  return buffer;
}

// The group's output gradients [count, channels, OH, OW] as one matrix [channels, count * layout.cols]: in place for
// one image with im2col's layout, else gathered into `buffer` (junk wide columns zero).
template <class T>
const T* group_rows(const T* dy, std::int64_t channels, const Conv2dGeometry& geometry, const ColumnLayout& layout,
                    ImageGroup group, T* buffer) {
  const std::int64_t out_h = geometry.out_height(), out_w = geometry.out_width(), cols = out_h * out_w;
  if (group.count == 1 && !layout.wide) return dy + group.first * channels * cols;
  const std::int64_t pitch = group.count * layout.cols;
  for (std::int64_t g = 0; g < group.count; ++g) {
    for (std::int64_t c = 0; c < channels; ++c) {
      const T* in = dy + ((group.first + g) * channels + c) * cols;
      T* out = buffer + c * pitch + g * layout.cols;
      if (!layout.wide) {
        std::copy_n(in, cols, out);
        continue;
      }
      for (std::int64_t oh = 0; oh < out_h; ++oh) {
        copy_short_run(in + oh * out_w, out_w, out + oh * geometry.width);
        if (oh + 1 < out_h) std::fill_n(out + oh * geometry.width + out_w, geometry.width - out_w, T(0));
      }
    }
  }
  return buffer;
}

// A group's gemm output [channels, count * layout.cols] -> y [count, channels, OH, OW], junk wide columns dropped.
template <class T>
void scatter_group_output(const T* out, std::int64_t channels, const Conv2dGeometry& geometry,
                          const ColumnLayout& layout, ImageGroup group, T* y) {
  const std::int64_t out_h = geometry.out_height(), out_w = geometry.out_width(), cols = out_h * out_w;
  const std::int64_t pitch = group.count * layout.cols;
  for (std::int64_t g = 0; g < group.count; ++g) {
    for (std::int64_t c = 0; c < channels; ++c) {
      const T* in = out + c * pitch + g * layout.cols;
      T* image = y + ((group.first + g) * channels + c) * cols;
      if (!layout.wide) {
        std::copy_n(in, cols, image);
        continue;
      }
      for (std::int64_t oh = 0; oh < out_h; ++oh) copy_short_run(in + oh * geometry.width, out_w, image + oh * out_w);
    }
  }
}

}  // namespace

template <class T>
void im2col(const T* image, const Conv2dGeometry& geometry, T* columns, std::int64_t row_pitch) {
  const std::int64_t stride = geometry.stride_w;
  for_each_column_run(
      geometry, row_pitch > 0 ? row_pitch : geometry.column_cols(),
      [&](std::int64_t column, std::int64_t pixel, std::int64_t count) {
        T* out = columns + column;
        const T* in = image + pixel;
        if (stride == 1) {
          copy_short_run(in, count, out);
        } else {
          for (std::int64_t k = 0; k < count; ++k) out[k] = in[k * stride];
        }
      },
      [&](std::int64_t begin, std::int64_t end) { std::fill(columns + begin, columns + end, T(0)); });
}

template <class T>
void col2im(const T* columns, const Conv2dGeometry& geometry, T* image, std::int64_t row_pitch) {
  std::fill(image, image + geometry.channels * geometry.height * geometry.width, T(0));
  const std::int64_t stride = geometry.stride_w;
  for_each_column_run(
      geometry, row_pitch > 0 ? row_pitch : geometry.column_cols(),
      [&](std::int64_t column, std::int64_t pixel, std::int64_t count) {
        const T* in = columns + column;
        T* out = image + pixel;
        if (stride == 1) {  // a separate loop, which the compiler vectorises
          for (std::int64_t k = 0; k < count; ++k) out[k] += in[k];
        } else {
          for (std::int64_t k = 0; k < count; ++k) out[k * stride] += in[k];
        }
      },
      [](std::int64_t, std::int64_t) {});
}

template <class T>
void conv2d_forward(const T* x, const T* weight, const T* bias, T* y, std::int64_t batch, std::int64_t out_channels,
                    const Conv2dGeometry& geometry, T* workspace) {
  const std::int64_t rows = geometry.column_rows();
  const ColumnLayout layout = column_layout(geometry, out_channels);
  const RunPlan plan = plan_runs(batch, layout);
  for_each_run<T>(plan, batch, out_channels, geometry, layout, workspace,
                  [&](std::int64_t, std::int64_t begin, std::int64_t end, const RunBuffers<T>& buffers) {
    for_each_group(begin, end, layout, [&](ImageGroup group) {
      const T* columns = group_columns(x, geometry, layout, group, buffers.columns);
      const std::int64_t pitch = group.count * layout.cols;
      const bool direct = group.count == 1 && !layout.wide;  // the gemm output is y itself
      T* out = direct ? y + group.first * out_channels * layout.cols : buffers.output;
      // out [out_channels, count * cols] = bias + weight [out_channels, rows] * columns [rows, count * cols]: the
      // bias is written first and the gemm adds to it (beta 1), which spares OpenBLAS its pass zeroing the output.
      if (bias != nullptr) {
        for (std::int64_t c = 0; c < out_channels; ++c) std::fill_n(out + c * pitch, pitch, bias[c]);
      }
      gemm(false, false, out_channels, pitch, rows, T(1), weight, rows, columns, pitch, T(bias != nullptr ? 1 : 0),
           out, pitch);
      if (!direct) scatter_group_output(out, out_channels, geometry, layout, group, y);
    });
  });
}

template <class T>
void conv2d_backward_data(const T* dy, const T* weight, T* dx, std::int64_t batch, std::int64_t out_channels,
                          const Conv2dGeometry& geometry, T* workspace) {
  const std::int64_t rows = geometry.column_rows();
  const std::int64_t image_size = geometry.channels * geometry.height * geometry.width;
  const ColumnLayout layout = column_layout(geometry, out_channels);
  const RunPlan plan = plan_runs(batch, layout);
  for_each_run<T>(plan, batch, out_channels, geometry, layout, workspace,
                  [&](std::int64_t, std::int64_t begin, std::int64_t end, const RunBuffers<T>& buffers) {
    for_each_group(begin, end, layout, [&](ImageGroup group) {
      const std::int64_t pitch = group.count * layout.cols;
      const T* gradients = group_rows(dy, out_channels, geometry, layout, group, buffers.gradients);
      // A single pointwise image's columns are its gradient; otherwise columns, then col2im per image.
      const bool in_place = group.count == 1 && geometry.is_pointwise();
      T* target = in_place ? dx + group.first * image_size : buffers.columns;
      // columns [rows, count * cols] = weight^T [rows, out_channels] * dy [out_channels, count * cols]
      gemm(true, false, rows, pitch, out_channels, T(1), weight, rows, gradients, pitch, T(0), target, pitch);
      if (in_place) return;
      for (std::int64_t g = 0; g < group.count; ++g) {
        T* image = dx + (group.first + g) * image_size;
        if (layout.wide) {
          wide_col2im(target + g * layout.cols, geometry, layout.cols, image, pitch);
        } else {
          col2im(target + g * layout.cols, geometry, image, pitch);
        }
      }
    });
  });
}

template <class T>
void conv2d_backward_weight(const T* x, const T* dy, T* dweight, std::int64_t batch, std::int64_t out_channels,
                            const Conv2dGeometry& geometry, T* workspace) {
  const std::int64_t rows = geometry.column_rows();
  const std::int64_t weight_size = out_channels * rows;
  const ColumnLayout layout = column_layout(geometry, out_channels);
  // Each run sums into its own slot (run 0 into dweight) and the slots are added in run order: the result does not
  // depend on which thread ran what.
  const RunPlan plan = plan_runs(batch, layout);
  HostScratch<T> partial_sums;
  T* partials = partial_sums.reserve(static_cast<std::size_t>((plan.runs - 1) * weight_size));
  for_each_run<T>(plan, batch, out_channels, geometry, layout, workspace,
                  [&](std::int64_t run, std::int64_t begin, std::int64_t end, const RunBuffers<T>& buffers) {
    T* sum = run == 0 ? dweight : partials + (run - 1) * weight_size;
    std::fill(sum, sum + weight_size, T(0));
    for_each_group(begin, end, layout, [&](ImageGroup group) {
      const std::int64_t pitch = group.count * layout.cols;
      const T* columns = group_columns(x, geometry, layout, group, buffers.columns);
      const T* gradients = group_rows(dy, out_channels, geometry, layout, group, buffers.gradients);
      // sum [out_channels, rows] += dy [out_channels, count * cols] * columns^T [count * cols, rows]
      gemm(false, true, out_channels, rows, pitch, T(1), gradients, pitch, columns, pitch, T(1), sum, rows);
    });
  });
  for (std::int64_t run = 1; run < plan.runs; ++run) {
    const T* partial = partials + (run - 1) * weight_size;
    for (std::int64_t i = 0; i < weight_size; ++i) dweight[i] += partial[i];
  }
}

std::int64_t conv2d_serial_workspace(std::int64_t out_channels, const Conv2dGeometry& geometry) {
  return run_elements(out_channels, geometry, column_layout(geometry, out_channels));
}

#define KILN_INSTANTIATE(T)                                                                                        \
  template void im2col<T>(const T*, const Conv2dGeometry&, T*, std::int64_t);                                      \
  template void col2im<T>(const T*, const Conv2dGeometry&, T*, std::int64_t);                                      \
  template void conv2d_forward<T>(const T*, const T*, const T*, T*, std::int64_t, std::int64_t,                    \
                                  const Conv2dGeometry&, T*);                                                      \
  template void conv2d_backward_data<T>(const T*, const T*, T*, std::int64_t, std::int64_t, const Conv2dGeometry&, \
                                        T*);                                                                       \
  template void conv2d_backward_weight<T>(const T*, const T*, T*, std::int64_t, std::int64_t,                      \
                                          const Conv2dGeometry&, T*);
KILN_INSTANTIATE(float)
KILN_INSTANTIATE(double)
#undef KILN_INSTANTIATE

}  // namespace kiln::kernels::cpu
