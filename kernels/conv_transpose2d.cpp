// CPU transposed convolution: each pass is the opposite pass of the adjoint convolution (forward = its backward-data,
// backward-data = its forward, and the weight gradient with the roles of input and output gradient swapped).
#include "kernels/conv_transpose2d.h"

#include "kernels/elementwise.h"

namespace kiln::kernels::cpu {

template <class T>
void conv_transpose2d_forward(const T* x, const T* weight, const T* bias, T* y, std::int64_t batch,
                              std::int64_t in_channels, const Conv2dGeometry& adjoint) {
  conv2d_backward_data(x, weight, y, batch, in_channels, adjoint);
  if (bias != nullptr) bias_add_forward(y, bias, y, batch, adjoint.channels, adjoint.height * adjoint.width);
}

template <class T>
void conv_transpose2d_backward_data(const T* dy, const T* weight, T* dx, std::int64_t batch, std::int64_t in_channels,
                                    const Conv2dGeometry& adjoint) {
  conv2d_forward(dy, weight, static_cast<const T*>(nullptr), dx, batch, in_channels, adjoint);
}

template <class T>
void conv_transpose2d_backward_weight(const T* x, const T* dy, T* dweight, std::int64_t batch,
                                      std::int64_t in_channels, const Conv2dGeometry& adjoint) {
  conv2d_backward_weight(dy, x, dweight, batch, in_channels, adjoint);
}

#define KILN_INSTANTIATE(T)                                                                                 \
  template void conv_transpose2d_forward<T>(const T*, const T*, const T*, T*, std::int64_t, std::int64_t,   \
                                            const Conv2dGeometry&);                                         \
  template void conv_transpose2d_backward_data<T>(const T*, const T*, T*, std::int64_t, std::int64_t,       \
                                                  const Conv2dGeometry&);                                   \
  template void conv_transpose2d_backward_weight<T>(const T*, const T*, T*, std::int64_t, std::int64_t,     \
                                                    const Conv2dGeometry&);
KILN_INSTANTIATE(float)
KILN_INSTANTIATE(double)
#undef KILN_INSTANTIATE

}  // namespace kiln::kernels::cpu
