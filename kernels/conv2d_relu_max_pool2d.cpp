// conv2d + relu + max pool, a chunk of images at a time: each chunk's convolution output lives in a scratch block
// small enough to stay in the core's cache, and the plain kernels (conv2d, pool, bias) run on it one after another.
#include "kernels/conv2d_relu_max_pool2d.h"

#include <algorithm>

#include "kernels/elementwise.h"
#include "kernels/host_scratch.h"
#include "kernels/parallel.h"

namespace kiln::kernels::cpu {
namespace {

// A chunk's convolution output (or its gradient) takes at most this much, about half a core's L2 cache, and at least
// one image: 2 of fmnist-small's 26x26x32 conv1 images, 16 of its 11x11x32 conv2 ones.
constexpr std::int64_t chunk_bytes = 256 * 1024;

template <class T>
std::int64_t images_per_chunk(std::int64_t out_channels, const Conv2dGeometry& conv) {
  const std::int64_t image_bytes = out_channels * conv.column_cols() * static_cast<std::int64_t>(sizeof(T));
  return std::max<std::int64_t>(1, chunk_bytes / image_bytes);
}

// A call's chunks of images split into runs of consecutive chunks, one run per thread. All runs' working memory is one
// block reserved by the calling thread (conv2d.h says why), each run's slice holding the chunk's convolution output
// (or its gradient), the conv kernels' workspace and, in the backward, the run's own weight and bias gradient sums.
struct RunPlan {
  std::int64_t chunk_images, chunks, runs, chunks_per_run, slice_size;
  std::int64_t first(std::int64_t chunk) const { return chunk * chunk_images; }  // the chunk's first image
};

template <class T>
RunPlan plan_runs(std::int64_t batch, std::int64_t out_channels, const Conv2dGeometry& conv, std::int64_t extra) {
  const std::int64_t size = images_per_chunk<T>(out_channels, conv), chunks = (batch + size - 1) / size;
  const std::int64_t threads = in_parallel_region() ? 1 : num_threads();
  const std::int64_t runs = std::max<std::int64_t>(1, std::min(chunks, threads));
  const std::int64_t slice = size * out_channels * conv.column_cols() + conv2d_serial_workspace(out_channels, conv);
  return {size, chunks, runs, (chunks + runs - 1) / runs, slice + extra};
}

// Calls body(run, chunk_out, workspace, first_image, count) for every chunk, runs spread over threads.
template <class T, class Body>
void for_each_chunk(const RunPlan& plan, std::int64_t batch, std::int64_t out_channels, const Conv2dGeometry& conv,
                    T* base, Body body) {
  parallel_for(0, plan.runs, 1, [&](std::int64_t run_begin, std::int64_t run_end) {
    for (std::int64_t run = run_begin; run < run_end; ++run) {
      T* chunk_out = base + run * plan.slice_size;
      T* workspace = chunk_out + plan.chunk_images * out_channels * conv.column_cols();
      const std::int64_t last = std::min(plan.chunks, (run + 1) * plan.chunks_per_run);
      for (std::int64_t chunk = run * plan.chunks_per_run; chunk < last; ++chunk) {
        const std::int64_t first = plan.first(chunk);
        body(run, chunk_out, workspace, first, std::min(plan.chunk_images, batch - first));
      }
    }
  });
}

}  // namespace

template <class T>
void conv2d_relu_max_pool2d_forward(const T* x, const T* weight, const T* bias, T* y, std::int32_t* argmax,
                                    std::int64_t batch, std::int64_t out_channels, const Conv2dGeometry& conv,
                                    const PoolAxis& rows, const PoolAxis& cols) {
  const std::int64_t image_size = conv.channels * conv.height * conv.width;
  const std::int64_t pooled_image = out_channels * rows.out_size() * cols.out_size();
  const RunPlan plan = plan_runs<T>(batch, out_channels, conv, 0);
  HostScratch<T> scratch;
  T* base = scratch.reserve(static_cast<std::size_t>(plan.runs * plan.slice_size));
  // The kernels below run serially in the thread that took the run (nested parallel_for).
  for_each_chunk(plan, batch, out_channels, conv, base,
                 [&](std::int64_t, T* conv_out, T* workspace, std::int64_t first, std::int64_t count) {
    conv2d_forward(x + first * image_size, weight, bias, conv_out, count, out_channels, conv, workspace);
    max_pool2d_forward(conv_out, y + first * pooled_image, argmax + first * pooled_image, count * out_channels, rows,
                       cols, true);
  });
}

template <class T>
void conv2d_relu_max_pool2d_backward(const T* x, const T* weight, const T* dy, const std::int32_t* argmax, T* dx,
                                     T* dweight, T* dbias, std::int64_t batch, std::int64_t out_channels,
                                     const Conv2dGeometry& conv, const PoolAxis& rows, const PoolAxis& cols) {
  const std::int64_t image_size = conv.channels * conv.height * conv.width;
  const std::int64_t pooled_image = out_channels * rows.out_size() * cols.out_size();
  const std::int64_t weight_size = out_channels * conv.column_rows(), sums_size = weight_size + out_channels;
  // Each run's slice ends with its weight-then-bias gradient sums and one chunk's: the runs' sums are added in run
  // order, so the result depends on the thread count, never on which thread took which run.
  const RunPlan plan = plan_runs<T>(batch, out_channels, conv, 2 * sums_size);
  HostScratch<T> scratch;
  T* base = scratch.reserve(static_cast<std::size_t>(plan.runs * plan.slice_size));
  const auto run_sums = [&](std::int64_t run) { return base + (run + 1) * plan.slice_size - 2 * sums_size; };
  for (std::int64_t run = 0; run < plan.runs; ++run) std::fill_n(run_sums(run), sums_size, T(0));
  const std::int64_t summed = dbias != nullptr ? sums_size : weight_size;
  for_each_chunk(plan, batch, out_channels, conv, base,
                 [&](std::int64_t run, T* conv_grad, T* workspace, std::int64_t first, std::int64_t count) {
    T* sums = run_sums(run);
    T* chunk_sums = sums + sums_size;
    // The convolution output's gradient, 0 where relu or the pool passed nothing on.
    max_pool2d_backward(dy + first * pooled_image, argmax + first * pooled_image, conv_grad, count * out_channels,
                        conv.column_cols(), rows.out_size() * cols.out_size());
    if (dx != nullptr) {
      conv2d_backward_data(conv_grad, weight, dx + first * image_size, count, out_channels, conv, workspace);
    }
    conv2d_backward_weight(x + first * image_size, conv_grad, chunk_sums, count, out_channels, conv, workspace);
    if (dbias != nullptr) {
      bias_add_backward(conv_grad, chunk_sums + weight_size, count, out_channels, conv.column_cols());
    }
    for (std::int64_t i = 0; i < summed; ++i) sums[i] += chunk_sums[i];
  });
  std::copy_n(run_sums(0), weight_size, dweight);
  if (dbias != nullptr) std::copy_n(run_sums(0) + weight_size, out_channels, dbias);
  for (std::int64_t run = 1; run < plan.runs; ++run) {
    const T* sums = run_sums(run);
    for (std::int64_t i = 0; i < weight_size; ++i) dweight[i] += sums[i];
    if (dbias != nullptr) {
      for (std::int64_t k = 0; k < out_channels; ++k) dbias[k] += sums[weight_size + k];
    }
  }
}

#define KILN_INSTANTIATE(T)                                                                                       \
  template void conv2d_relu_max_pool2d_forward<T>(const T*, const T*, const T*, T*, std::int32_t*, std::int64_t,  \
                                                  std::int64_t, const Conv2dGeometry&, const PoolAxis&,           \
                                                  const PoolAxis&);                                               \
  template void conv2d_relu_max_pool2d_backward<T>(const T*, const T*, const T*, const std::int32_t*, T*, T*, T*, \
                                                   std::int64_t, std::int64_t, const Conv2dGeometry&,             \
                                                   const PoolAxis&, const PoolAxis&);
KILN_INSTANTIATE(float)
KILN_INSTANTIATE(double)
#undef KILN_INSTANTIATE

}  // namespace kiln::kernels::cpu
