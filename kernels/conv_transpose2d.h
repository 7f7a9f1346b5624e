#pragma once
// Transposed 2-D convolution on NCHW arrays, computed as the adjoint of kernels/conv2d: the convolution that maps
// y [batch, out_channels, OH, OW] to [batch, in_channels, H, W] with the same weight.
#include <cstdint>

#include "kernels/conv2d.h"

namespace kiln::kernels::cpu {

// x [batch, in_channels, H, W], weight [in_channels, out_channels, R, S], bias [out_channels] or null
// -> y [batch, out_channels, OH, OW]. `adjoint` is the geometry of the convolution y -> x: its input is
// [out_channels, OH, OW] and its output H x W.
template <class T>
void conv_transpose2d_forward(const T* x, const T* weight, const T* bias, T* y, std::int64_t batch,
                              std::int64_t in_channels, const Conv2dGeometry& adjoint);
// dx = the gradient for x, given dy [batch, out_channels, OH, OW].
template <class T>
void conv_transpose2d_backward_data(const T* dy, const T* weight, T* dx, std::int64_t batch, std::int64_t in_channels,
                                    const Conv2dGeometry& adjoint);
// dweight = the gradient for weight, summed over the batch.
template <class T>
void conv_transpose2d_backward_weight(const T* x, const T* dy, T* dweight, std::int64_t batch,
                                      std::int64_t in_channels, const Conv2dGeometry& adjoint);

}  // namespace kiln::kernels::cpu

// CUDA versions (float32, device pointers), in conv_transpose2d.cu: conv2d's CUDA kernels in the adjoint roles.
namespace kiln::kernels::cuda {

void conv_transpose2d_forward(const float* x, const float* weight, const float* bias, float* y, std::int64_t batch,
                              std::int64_t in_channels, const cpu::Conv2dGeometry& adjoint);
void conv_transpose2d_backward_data(const float* dy, const float* weight, float* dx, std::int64_t batch,
                                    std::int64_t in_channels, const cpu::Conv2dGeometry& adjoint);
// The floats of scratch conv_transpose2d_backward_weight needs (0 when it needs none).
std::int64_t conv_transpose2d_backward_weight_scratch(std::int64_t batch, std::int64_t in_channels,
                                                      const cpu::Conv2dGeometry& adjoint);
void conv_transpose2d_backward_weight(const float* x, const float* dy, float* dweight, float* scratch,
                                      std::int64_t batch, std::int64_t in_channels,
                                      const cpu::Conv2dGeometry& adjoint);

}  // namespace kiln::kernels::cuda
