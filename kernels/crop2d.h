#pragma once
// A spatial window of NCHW planes: the input is `planes` (N * C) planes of in_height x in_width, the output the same
// planes cut to rows top..top+height and columns left..left+width. The window fits (checked by the caller).
#include <cstdint>

namespace kiln::kernels {

struct Crop2dWindow {
  std::int64_t planes = 0;
  std::int64_t in_height = 0, in_width = 0;
  std::int64_t top = 0, left = 0, height = 0, width = 0;
};

}  // namespace kiln::kernels

namespace kiln::kernels::cpu {

// y = the window of x; planes split over threads.
template <class T>
void crop2d_forward(const T* x, T* y, const Crop2dWindow& window);
// dx = dy inside the window, zero elsewhere (every element of dx is written).
template <class T>
void crop2d_backward(const T* dy, T* dx, const Crop2dWindow& window);

}  // namespace kiln::kernels::cpu

// CUDA versions (float32, device pointers), in crop2d.cu.
namespace kiln::kernels::cuda {

void crop2d_forward(const float* x, float* y, const Crop2dWindow& window);
void crop2d_backward(const float* dy, float* dx, const Crop2dWindow& window);

}  // namespace kiln::kernels::cuda
