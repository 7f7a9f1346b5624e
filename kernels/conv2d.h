#pragma once
// 2-D convolution as im2col + gemm on NCHW arrays, small images a few to a gemm. The im2col/col2im helpers are shared
// with the transposed convolution, which is this convolution's adjoint.
#include <cstdint>

namespace kiln::kernels::cpu {

// The shape of one convolution, for one image: its input is [channels, height, width].
struct Conv2dGeometry {
  std::int64_t channels = 0, height = 0, width = 0;
  std::int64_t kernel_h = 0, kernel_w = 0;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;

  // Callers check that these are positive before running a kernel.
  std::int64_t out_height() const { return (height + 2 * pad_h - kernel_h) / stride_h + 1; }
  std::int64_t out_width() const { return (width + 2 * pad_w - kernel_w) / stride_w + 1; }
  // The column matrix: one row per (channel, kernel row, kernel column), one column per output position.
  std::int64_t column_rows() const { return channels * kernel_h * kernel_w; }
  std::int64_t column_cols() const { return out_height() * out_width(); }
  // A 1x1, stride-1, unpadded convolution: the input image already is its column matrix.
  bool is_pointwise() const {
    return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0;
  }
};

// image [channels, height, width] -> columns [column_rows, column_cols]; padding reads as 0. Row r of the columns
// starts at columns + r * row_pitch (default column_cols(); larger to put several images' columns side by side).
template <class T> void im2col(const T* image, const Conv2dGeometry& geometry, T* columns, std::int64_t row_pitch = 0);
// The adjoint of im2col: image = 0, then every column entry is added to the pixel it was read from.
template <class T>
void col2im(const T* columns, const Conv2dGeometry& geometry, T* image, std::int64_t row_pitch = 0);

// x [batch, channels, H, W], weight [out_channels, channels, R, S], bias [out_channels] or null
// -> y [batch, out_channels, OH, OW].
// Each kernel takes its working memory from the caching allocator, or from `workspace` when given: at least
// conv2d_serial_workspace() elements, for calls made inside a parallel region (which run serially). A caller running
// the kernels on several threads at once reserves every thread's workspace up front, in one block: otherwise how
// many blocks are live at once depends on how the threads happened to interleave, and a later step may need one more
// than the cache holds.
template <class T>
void conv2d_forward(const T* x, const T* weight, const T* bias, T* y, std::int64_t batch, std::int64_t out_channels,
                    const Conv2dGeometry& geometry, T* workspace = nullptr);
// dx = the gradient for x, given dy [batch, out_channels, OH, OW].
template <class T>
void conv2d_backward_data(const T* dy, const T* weight, T* dx, std::int64_t batch, std::int64_t out_channels,
                          const Conv2dGeometry& geometry, T* workspace = nullptr);
// dweight = the gradient for weight, summed over the batch in an order fixed by the thread count.
template <class T>
void conv2d_backward_weight(const T* x, const T* dy, T* dweight, std::int64_t batch, std::int64_t out_channels,
                            const Conv2dGeometry& geometry, T* workspace = nullptr);
std::int64_t conv2d_serial_workspace(std::int64_t out_channels, const Conv2dGeometry& geometry);

}  // namespace kiln::kernels::cpu

// CUDA versions (float32, device pointers), in conv2d.cu: implicit GEMMs that gather from the images on the fly (no
// column buffer), with the CPU versions' arguments.
namespace kiln::kernels::cuda {

void conv2d_forward(const float* x, const float* weight, const float* bias, float* y, std::int64_t batch,
                    std::int64_t out_channels, const cpu::Conv2dGeometry& geometry);
void conv2d_backward_data(const float* dy, const float* weight, float* dx, std::int64_t batch,
                          std::int64_t out_channels, const cpu::Conv2dGeometry& geometry);
// The floats of scratch conv2d_backward_weight needs for its per-chunk partial sums (0 when it needs none).
std::int64_t conv2d_backward_weight_scratch(std::int64_t batch, std::int64_t out_channels,
                                            const cpu::Conv2dGeometry& geometry);
// Deterministic: the batch's pixels are split into chunks fixed by the shapes, summed in chunk order.
void conv2d_backward_weight(const float* x, const float* dy, float* dweight, float* scratch, std::int64_t batch,
                            std::int64_t out_channels, const cpu::Conv2dGeometry& geometry);

}  // namespace kiln::kernels::cuda

// cuDNN versions (float32, device pointers on cuda:device_index), in conv2d_cudnn.cu (KILN_CUDA builds only), with
// the CPU versions' arguments. Each direction's algorithm is picked by cudnnFind*AlgorithmEx once per shape and
// setting (TF32, deterministic; kiln/backend.h) and cached; workspaces stay within cuda::Context::workspace_limit.
namespace kiln::kernels::cudnn {

void conv2d_forward(int device_index, const float* x, const float* weight, const float* bias, float* y,
                    std::int64_t batch, std::int64_t out_channels, const cpu::Conv2dGeometry& geometry);
void conv2d_backward_data(int device_index, const float* dy, const float* weight, float* dx, std::int64_t batch,
                          std::int64_t out_channels, const cpu::Conv2dGeometry& geometry);
void conv2d_backward_weight(int device_index, const float* x, const float* dy, float* dweight, std::int64_t batch,
                            std::int64_t out_channels, const cpu::Conv2dGeometry& geometry);

}  // namespace kiln::kernels::cudnn
