// CUDA convolution as implicit GEMM: each pass is a matrix product whose operands are gathered from the NCHW arrays
// while they are staged into shared memory, so no column matrix is ever built in global memory. All three passes
// share one tile loop (multiply_tile): 256-thread blocks own a 64 x 64 output tile, stage 64 x 16 operand slices
// in shared memory and accumulate 4 x 4 register blocks, prefetching the next slices into registers.
//   forward:       rows = out channels k, columns = output pixels (n, oh, ow), reduction = taps (c, r, s)
//   backward data: per stride phase, rows = channels c, columns = that phase's input pixels, reduction = (k, r, s)
//                  over the taps that reach them
//   backward weight: rows = k, columns = (c, r, s), reduction = output pixels, split into chunks summed in order
// Columns are the pixel-like dimension so that neighbouring threads store neighbouring addresses.
#include "kernels/conv2d.h"

#include <algorithm>

#include "kernels/elementwise.h"
#include "kernels/launch.h"
#include "kernels/register_tile.h"
#include "kiln/error.h"

namespace kiln::kernels::cuda {
namespace {

constexpr int tile = 64;    // output rows and columns per block
constexpr int tile_k = 16;  // reduction indices per shared-memory stage

// One convolution's sizes, as the kernels use them.
struct Conv {
  std::int64_t batch;
  int channels, height, width;
  int out_channels, out_h, out_w;
  int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
};

Conv make_conv(std::int64_t batch, std::int64_t out_channels, const cpu::Conv2dGeometry& g) {
  const auto i = [](std::int64_t v) { return static_cast<int>(v); };
  return {batch, i(g.channels), i(g.height), i(g.width), i(out_channels), i(g.out_height()), i(g.out_width()),
          i(g.kernel_h), i(g.kernel_w), i(g.stride_h), i(g.stride_w), i(g.pad_h), i(g.pad_w)};
}

unsigned blocks(std::int64_t n) { return static_cast<unsigned>((n + tile - 1) / tile); }

// The k loop of one 64 x 64 output tile over reduction indices [k_begin, k_end). load_a(k, count, r) fetches this
// thread's 4 elements of the A slice (tile row t % 64, reduction indices k .. k + 3), load_b(k, count, r) those of
// the B slice (tile column t % 64, the same indices); elements from `count` on (count may be <= 0) must read 0.
// acc receives the thread's 4 x 4 block: tile rows 4 * (t / 16) + i, tile columns 4 * (t % 16) + j.
template <class LoadA, class LoadB>
__device__ void multiply_tile(std::int64_t k_begin, std::int64_t k_end, const LoadA& load_a, const LoadB& load_b,
                              float (&acc)[4][4]) {
  __shared__ __align__(16) float a_slice[tile_k][tile];
  __shared__ __align__(16) float b_slice[tile_k][tile];
  const int t = static_cast<int>(threadIdx.x), slot = t % tile, slot_k = (t / tile) * 4;
  const int row = (t / 16) * 4, col = (t % 16) * 4;
  const auto count = [&](std::int64_t k) { return k_end - k < 4 ? static_cast<int>(k_end - k) : 4; };
  for (auto& line : acc) {
    for (float& value : line) value = 0.0f;
  }
  float a_next[4] = {}, b_next[4] = {};
  if (k_begin < k_end) {
    load_a(k_begin + slot_k, count(k_begin + slot_k), a_next);
    load_b(k_begin + slot_k, count(k_begin + slot_k), b_next);
  }
  for (std::int64_t k0 = k_begin; k0 < k_end; k0 += tile_k) {
    for (int i = 0; i < 4; ++i) {
      a_slice[slot_k + i][slot] = a_next[i];
      b_slice[slot_k + i][slot] = b_next[i];
    }
    __syncthreads();
    const std::int64_t next = k0 + tile_k + slot_k;
    if (k0 + tile_k < k_end) {
      load_a(next, count(next), a_next);
      load_b(next, count(next), b_next);
    }
    accumulate_register_tile(a_slice, b_slice, row, col, acc);
    __syncthreads();
  }
}

// A kernel tap (c, r, s), stepped through consecutive reduction indices q = (c * R + r) * S + s.
struct Tap {
  int c, r, s;
};
__device__ Tap tap_of(std::int64_t q, const Conv& g) {
  const int taps = g.kernel_h * g.kernel_w, rs = static_cast<int>(q % taps);
  return {static_cast<int>(q / taps), rs / g.kernel_w, rs % g.kernel_w};
}
__device__ void next_tap(Tap& tap, const Conv& g) {
  if (++tap.s < g.kernel_w) return;
  tap.s = 0;
  if (++tap.r < g.kernel_h) return;
  tap.r = 0;
  ++tap.c;
}

// An output pixel p = (n, oh, ow), stepped through consecutive p.
struct Pixel {
  std::int64_t n;
  int oh, ow;
};
__device__ Pixel pixel_of(std::int64_t p, const Conv& g) {
  const int plane = g.out_h * g.out_w, pix = static_cast<int>(p % plane);
  return {p / plane, pix / g.out_w, pix % g.out_w};
}
__device__ void next_pixel(Pixel& pixel, const Conv& g) {
  if (++pixel.ow < g.out_w) return;
  pixel.ow = 0;
  if (++pixel.oh < g.out_h) return;
  pixel.oh = 0;
  ++pixel.n;
}
__device__ std::int64_t output_offset(const Pixel& pixel, int k, const Conv& g) {
  return ((pixel.n * g.out_channels + k) * g.out_h + pixel.oh) * g.out_w + pixel.ow;
}

// x[n, c, oh * sh - ph + r, ow * sw - pw + s], 0 in the padding.
__device__ float gather_input(const float* x, const Pixel& pixel, const Tap& tap, const Conv& g) {
  const int h = pixel.oh * g.stride_h - g.pad_h + tap.r, w = pixel.ow * g.stride_w - g.pad_w + tap.s;
  if (h < 0 || h >= g.height || w < 0 || w >= g.width) return 0.0f;
  return x[((pixel.n * g.channels + tap.c) * g.height + h) * g.width + w];
}

// Forward, y = W * gathered x. Blocks: blockIdx.x over 64 output pixels, blockIdx.y over 64 output channels.
__global__ __launch_bounds__(256) void conv2d_forward_kernel(const float* x, const float* weight, float* y, Conv g) {
  const std::int64_t pixels = g.batch * g.out_h * g.out_w;
  const std::int64_t reduction = static_cast<std::int64_t>(g.channels) * g.kernel_h * g.kernel_w;
  const std::int64_t p0 = static_cast<std::int64_t>(blockIdx.x) * tile;
  const int k0 = static_cast<int>(blockIdx.y) * tile, slot = static_cast<int>(threadIdx.x) % tile;
  // This thread's A row (an output channel) and B column (an output pixel) stay fixed over the reduction.
  const int k_row = k0 + slot;
  const bool pixel_valid = p0 + slot < pixels;
  const Pixel pixel = pixel_of(p0 + slot, g);
  const auto load_weight = [&](std::int64_t q, int count, float (&r)[4]) {
    for (int i = 0; i < 4; ++i) {
      r[i] = i < count && k_row < g.out_channels ? weight[k_row * reduction + q + i] : 0.0f;
    }
  };
  const auto load_input = [&](std::int64_t q, int count, float (&r)[4]) {
    Tap tap = tap_of(q, g);
    for (int i = 0; i < 4; ++i, next_tap(tap, g)) {
      r[i] = i < count && pixel_valid ? gather_input(x, pixel, tap, g) : 0.0f;
    }
  };
  float acc[4][4];
  multiply_tile(0, reduction, load_weight, load_input, acc);

  const int row = static_cast<int>(threadIdx.x / 16) * 4, col = static_cast<int>(threadIdx.x % 16) * 4;
  for (int j = 0; j < 4 && p0 + col + j < pixels; ++j) {
    const Pixel out = pixel_of(p0 + col + j, g);
    for (int i = 0; i < 4 && k0 + row + i < g.out_channels; ++i) y[output_offset(out, k0 + row + i, g)] = acc[i][j];
  }
}

// One axis of a stride phase a (0 <= a < stride) of the backward-data pass: the input coordinates
// first + step * stride (step < count) are those with (coordinate + pad) % stride == a; they receive gradient only
// through the kernel taps a + j * stride (j < taps), from output coordinate base + step - j.
struct PhaseAxis {
  int first, count, taps, base;
};
__device__ PhaseAxis phase_axis(int a, int size, int kernel, int stride, int pad) {
  const int first = ((a - pad) % stride + stride) % stride;
  return {first, first < size ? (size - first + stride - 1) / stride : 0,
          a < kernel ? (kernel - a + stride - 1) / stride : 0, (first + pad - a) / stride};
}

// Backward data, dx = gathered W^T * gathered dy, one stride phase per blockIdx.z (so a strided convolution wastes
// no products on taps that skip a pixel). Blocks: blockIdx.x over 64 of the phase's input pixels, blockIdx.y over 64
// input channels; blocks past the phase's pixels exit.
__global__ __launch_bounds__(256) void conv2d_backward_data_kernel(const float* dy, const float* weight, float* dx,
                                                                  Conv g) {
  const int a_h = static_cast<int>(blockIdx.z) / g.stride_w, a_w = static_cast<int>(blockIdx.z) % g.stride_w;
  const PhaseAxis ph = phase_axis(a_h, g.height, g.kernel_h, g.stride_h, g.pad_h);
  const PhaseAxis pw = phase_axis(a_w, g.width, g.kernel_w, g.stride_w, g.pad_w);
  const int plane = ph.count * pw.count, taps = ph.taps * pw.taps;
  const std::int64_t pixels = g.batch * plane;
  const std::int64_t p0 = static_cast<std::int64_t>(blockIdx.x) * tile;
  if (p0 >= pixels) return;  // the whole block: no barrier is left waiting
  const std::int64_t reduction = static_cast<std::int64_t>(g.out_channels) * taps;
  const int c0 = static_cast<int>(blockIdx.y) * tile, slot = static_cast<int>(threadIdx.x) % tile;
  const int c_row = c0 + slot;
  // This thread's B column: phase pixel (n, step_h, step_w), i.e. input pixel (first + step * stride) per axis.
  const std::int64_t p = p0 + slot;
  const bool pixel_valid = p < pixels;
  const std::int64_t n = p / plane;
  const int step_h = static_cast<int>(p % plane) / pw.count, step_w = static_cast<int>(p % plane) % pw.count;

  // Reduction index q = (k * taps_h + jr) * taps_w + js: output channel k, kernel tap (a_h + jr * sh, a_w + js * sw).
  struct PhaseTap {
    int k, jr, js;
  };
  const auto phase_tap = [&](std::int64_t q) {
    const int rest = static_cast<int>(q % taps);
    return PhaseTap{static_cast<int>(q / taps), rest / pw.taps, rest % pw.taps};
  };
  const auto next = [&](PhaseTap& tap) {
    if (++tap.js < pw.taps) return;
    tap.js = 0;
    if (++tap.jr < ph.taps) return;
    tap.jr = 0;
    ++tap.k;
  };
  const auto load_weight = [&](std::int64_t q, int count, float (&r)[4]) {
    PhaseTap tap = phase_tap(q);
    for (int e = 0; e < 4; ++e, next(tap)) {
      const int kr = a_h + tap.jr * g.stride_h, ks = a_w + tap.js * g.stride_w;
      const std::int64_t index = ((static_cast<std::int64_t>(tap.k) * g.channels + c_row) * g.kernel_h + kr) *
                                     g.kernel_w + ks;
      r[e] = e < count && c_row < g.channels ? weight[index] : 0.0f;
    }
  };
  const auto load_gradient = [&](std::int64_t q, int count, float (&r)[4]) {
    PhaseTap tap = phase_tap(q);
    for (int e = 0; e < 4; ++e, next(tap)) {
      const int oh = ph.base + step_h - tap.jr, ow = pw.base + step_w - tap.js;
      const bool inside = oh >= 0 && oh < g.out_h && ow >= 0 && ow < g.out_w;
      r[e] = e < count && pixel_valid && inside ? dy[((n * g.out_channels + tap.k) * g.out_h + oh) * g.out_w + ow]
                                                : 0.0f;
    }
  };
  float acc[4][4];
  multiply_tile(0, reduction, load_weight, load_gradient, acc);

  const int row = static_cast<int>(threadIdx.x / 16) * 4, col = static_cast<int>(threadIdx.x % 16) * 4;
  for (int e = 0; e < 4 && p0 + col + e < pixels; ++e) {
    const std::int64_t out = p0 + col + e, out_n = out / plane;
    const int h = ph.first + static_cast<int>(out % plane) / pw.count * g.stride_h;
    const int w = pw.first + static_cast<int>(out % plane) % pw.count * g.stride_w;
    for (int c = c0 + row; c < c0 + row + 4 && c < g.channels; ++c) {
      dx[((out_n * g.channels + c) * g.height + h) * g.width + w] = acc[c - c0 - row][e];
    }
  }
}

// Backward weight, dW = dy * gathered x^T over the output pixels [chunk * blockIdx.z, + chunk): rows k, columns
// taps q = (c, r, s). Blocks: blockIdx.x over 64 taps, blockIdx.y over 64 output channels, blockIdx.z over chunks,
// each writing its own partial [out_channels, taps] slab of `out`.
__global__ __launch_bounds__(256) void conv2d_backward_weight_kernel(const float* x, const float* dy, float* out,
                                                                    std::int64_t chunk, Conv g) {
  const std::int64_t pixels = g.batch * g.out_h * g.out_w;
  const std::int64_t taps = static_cast<std::int64_t>(g.channels) * g.kernel_h * g.kernel_w;
  const std::int64_t q0 = static_cast<std::int64_t>(blockIdx.x) * tile;
  const int k0 = static_cast<int>(blockIdx.y) * tile, slot = static_cast<int>(threadIdx.x) % tile;
  const std::int64_t begin = chunk * blockIdx.z, end = begin + chunk < pixels ? begin + chunk : pixels;
  // This thread's A row (an output channel) and B column (a tap) stay fixed over the reduction.
  const int k_row = k0 + slot;
  const bool tap_valid = q0 + slot < taps;
  const Tap tap = tap_of(q0 + slot, g);
  const auto load_gradient = [&](std::int64_t p, int count, float (&r)[4]) {
    Pixel pixel = pixel_of(p, g);
    for (int e = 0; e < 4; ++e, next_pixel(pixel, g)) {
      r[e] = e < count && k_row < g.out_channels ? dy[output_offset(pixel, k_row, g)] : 0.0f;
    }
  };
  const auto load_input = [&](std::int64_t p, int count, float (&r)[4]) {
    Pixel pixel = pixel_of(p, g);
    for (int e = 0; e < 4; ++e, next_pixel(pixel, g)) {
      r[e] = e < count && tap_valid ? gather_input(x, pixel, tap, g) : 0.0f;
    }
  };
  float acc[4][4];
  multiply_tile(begin, end, load_gradient, load_input, acc);

  float* slab = out + static_cast<std::int64_t>(blockIdx.z) * g.out_channels * taps;
  const int row = static_cast<int>(threadIdx.x / 16) * 4, col = static_cast<int>(threadIdx.x % 16) * 4;
  for (int i = 0; i < 4 && k0 + row + i < g.out_channels; ++i) {
    for (int j = 0; j < 4 && q0 + col + j < taps; ++j) slab[(k0 + row + i) * taps + q0 + col + j] = acc[i][j];
  }
}

// out[i] = the sum of the `chunks` partials of element i, in chunk order. Grid-stride over the elements.
__global__ void sum_chunks_kernel(const float* partials, std::int64_t chunks, std::int64_t size, float* out) {
  KILN_GRID_STRIDE_LOOP(i, size) {
    float total = 0.0f;
    for (std::int64_t chunk = 0; chunk < chunks; ++chunk) total += partials[chunk * size + i];
    out[i] = total;
  }
}

// How backward weight splits the reduction over output pixels: enough chunks to give a large GPU a few hundred
// blocks when the weight has few tiles, each chunk long enough that its partial slab is cheap next to its products.
struct Chunks {
  std::int64_t count, length;
};
Chunks weight_chunks(std::int64_t batch, std::int64_t out_channels, const cpu::Conv2dGeometry& g) {
  constexpr std::int64_t wanted_blocks = 512, min_length = 256, max_chunks = 64;
  const std::int64_t pixels = batch * g.column_cols();
  const std::int64_t tiles = std::max<std::int64_t>(1, blocks(out_channels) * std::int64_t{blocks(g.column_rows())});
  const std::int64_t wanted = std::clamp<std::int64_t>((wanted_blocks + tiles - 1) / tiles, 1, max_chunks);
  std::int64_t length = std::max(min_length, (pixels + wanted - 1) / wanted);
  length = (length + tile_k - 1) / tile_k * tile_k;
  return {std::max<std::int64_t>(1, (pixels + length - 1) / length), length};
}

}  // namespace

void conv2d_forward(const float* x, const float* weight, const float* bias, float* y, std::int64_t batch,
                    std::int64_t out_channels, const cpu::Conv2dGeometry& geometry) {
  const std::int64_t pixels = batch * geometry.column_cols();
  if (pixels == 0 || out_channels == 0) return;
  KILN_CHECK(blocks(out_channels) <= 65535, "cuda conv2d: too many output channels (", out_channels, ")");
  KILN_LAUNCH(conv2d_forward_kernel, dim3(blocks(pixels), blocks(out_channels)), dim3(threads_per_block), 0, nullptr,
              x, weight, y, make_conv(batch, out_channels, geometry));
  if (bias != nullptr) bias_add_forward(y, bias, y, batch, out_channels, geometry.column_cols());
}

void conv2d_backward_data(const float* dy, const float* weight, float* dx, std::int64_t batch,
                          std::int64_t out_channels, const cpu::Conv2dGeometry& geometry) {
  if (batch * geometry.channels * geometry.height * geometry.width == 0) return;
  const std::int64_t phases = geometry.stride_h * geometry.stride_w;
  KILN_CHECK(blocks(geometry.channels) <= 65535 && phases <= 65535, "cuda conv2d: ", geometry.channels,
             " channels or stride (", geometry.stride_h, ", ", geometry.stride_w, ") too large for one launch");
  // The largest phase has ceil(H / sh) x ceil(W / sw) pixels per image.
  const std::int64_t phase_pixels = batch * ((geometry.height + geometry.stride_h - 1) / geometry.stride_h) *
                                    ((geometry.width + geometry.stride_w - 1) / geometry.stride_w);
  const dim3 grid(blocks(phase_pixels), blocks(geometry.channels), static_cast<unsigned>(phases));
  KILN_LAUNCH(conv2d_backward_data_kernel, grid, dim3(threads_per_block), 0, nullptr, dy, weight, dx,
              make_conv(batch, out_channels, geometry));
}

std::int64_t conv2d_backward_weight_scratch(std::int64_t batch, std::int64_t out_channels,
                                            const cpu::Conv2dGeometry& geometry) {
  const Chunks chunks = weight_chunks(batch, out_channels, geometry);
  return chunks.count == 1 ? 0 : chunks.count * out_channels * geometry.column_rows();
}

void conv2d_backward_weight(const float* x, const float* dy, float* dweight, float* scratch, std::int64_t batch,
                            std::int64_t out_channels, const cpu::Conv2dGeometry& geometry) {
  const std::int64_t taps = geometry.column_rows(), size = out_channels * taps;
  if (size == 0) return;
  KILN_CHECK(blocks(out_channels) <= 65535, "cuda conv2d: too many output channels (", out_channels, ")");
  const Chunks chunks = weight_chunks(batch, out_channels, geometry);
  const dim3 grid(blocks(taps), blocks(out_channels), static_cast<unsigned>(chunks.count));
  // One chunk sums straight into dweight; several write partial slabs that one more pass adds in chunk order.
  float* out = chunks.count == 1 ? dweight : scratch;
  KILN_LAUNCH(conv2d_backward_weight_kernel, grid, dim3(threads_per_block), 0, nullptr, x, dy, out, chunks.length,
              make_conv(batch, out_channels, geometry));
  if (chunks.count > 1) {
    KILN_LAUNCH(sum_chunks_kernel, grid_for(size), dim3(threads_per_block), 0, nullptr, scratch, chunks.count, size,
                dweight);
  }
}

}  // namespace kiln::kernels::cuda
