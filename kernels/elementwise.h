#pragma once
// Elementwise kernels over contiguous arrays of n elements. CPU versions are templates instantiated for float and
// double (double serves the gradient checks).
#include <cstdint>

namespace kiln::kernels::cpu {

template <class T> void add(const T* a, const T* b, T* out, std::int64_t n);
template <class T> void mul(const T* a, const T* b, T* out, std::int64_t n);
template <class T> void scale(const T* x, T factor, T* out, std::int64_t n);
// out = a * factor + b (backward accumulations)
template <class T> void axpy(const T* a, T factor, const T* b, T* out, std::int64_t n);
template <class T> void relu_forward(const T* x, T* y, std::int64_t n);
// dx = dy where x > 0 (x is the op's input)
template <class T> void relu_backward(const T* x, const T* dy, T* dx, std::int64_t n);
template <class T> void relu6_forward(const T* x, T* y, std::int64_t n);
// dx = dy where 0 < x < 6
template <class T> void relu6_backward(const T* x, const T* dy, T* dx, std::int64_t n);
// x, y: [outer, channels, inner]; y = x + bias[c]
template <class T>
void bias_add_forward(const T* x, const T* bias, T* y, std::int64_t outer, std::int64_t channels, std::int64_t inner);
// dbias[c] = sum of dy over outer and inner
template <class T>
void bias_add_backward(const T* dy, T* dbias, std::int64_t outer, std::int64_t channels, std::int64_t inner);

}  // namespace kiln::kernels::cpu

// CUDA versions (float32, device pointers), in elementwise.cu.
namespace kiln::kernels::cuda {

void add(const float* a, const float* b, float* out, std::int64_t n);
void mul(const float* a, const float* b, float* out, std::int64_t n);
void scale(const float* x, float factor, float* out, std::int64_t n);
void relu_forward(const float* x, float* y, std::int64_t n);
void relu_backward(const float* x, const float* dy, float* dx, std::int64_t n);
void relu6_forward(const float* x, float* y, std::int64_t n);
void relu6_backward(const float* x, const float* dy, float* dx, std::int64_t n);
void bias_add_forward(const float* x, const float* bias, float* y, std::int64_t outer, std::int64_t channels,
                      std::int64_t inner);
void bias_add_backward(const float* dy, float* dbias, std::int64_t outer, std::int64_t channels, std::int64_t inner);

}  // namespace kiln::kernels::cuda
