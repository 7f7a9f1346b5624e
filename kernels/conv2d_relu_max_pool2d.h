#pragma once
// The CPU kernels of conv2d_relu_max_pool2d: max_pool2d(relu(conv2d(x))) a few images at a time, composed from the
// conv2d and pool kernels, so that the convolution's output (and its gradient) stays in the cache instead of going
// to memory and back between the ops: for fmnist-small's first layer, 22 MB a batch written and read in each pass.
#include <cstdint>

#include "kernels/conv2d.h"
#include "kernels/pool.h"

namespace kiln::kernels::cpu {

// y [batch, out_channels, PH, PW] and argmax as max_pool2d_forward with relu gives them, over the convolution of x
// [batch, channels, H, W] with weight [out_channels, channels, R, S] and bias [out_channels] (or null); the pool's
// windows are over the convolution's output [OH, OW].
template <class T>
void conv2d_relu_max_pool2d_forward(const T* x, const T* weight, const T* bias, T* y, std::int32_t* argmax,
                                    std::int64_t batch, std::int64_t out_channels, const Conv2dGeometry& conv,
                                    const PoolAxis& rows, const PoolAxis& cols);
// Given dy [batch, out_channels, PH, PW] and the forward's argmax: dweight, and dx and dbias unless null. dweight and
// dbias are summed over the batch in an order fixed by the thread count.
template <class T>
void conv2d_relu_max_pool2d_backward(const T* x, const T* weight, const T* dy, const std::int32_t* argmax, T* dx,
                                     T* dweight, T* dbias, std::int64_t batch, std::int64_t out_channels,
                                     const Conv2dGeometry& conv, const PoolAxis& rows, const PoolAxis& cols);

}  // namespace kiln::kernels::cpu
