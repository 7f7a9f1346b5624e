// CPU crop: row copies per plane, planes split over threads.
#include "kernels/crop2d.h"

#include <algorithm>

#include "kernels/parallel.h"

namespace kiln::kernels::cpu {
namespace {
constexpr std::int64_t grain_elements = 1 << 15;  // below this many written elements, threads cost more than they save

// Runs body(first plane, end plane) over all planes, each thread taking enough planes of `plane_size` elements.
void for_planes(const Crop2dWindow& window, std::int64_t plane_size,
                FunctionRef<void(std::int64_t, std::int64_t)> body) {
  parallel_for(0, window.planes, std::max<std::int64_t>(1, grain_elements / std::max<std::int64_t>(1, plane_size)),
               body);
}
}  // namespace

template <class T>
void crop2d_forward(const T* x, T* y, const Crop2dWindow& window) {
  const std::int64_t in_plane = window.in_height * window.in_width, out_plane = window.height * window.width;
  for_planes(window, out_plane, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t plane = begin; plane < end; ++plane) {
      const T* in = x + plane * in_plane + window.top * window.in_width + window.left;
      T* out = y + plane * out_plane;
      for (std::int64_t row = 0; row < window.height; ++row) {
        std::copy_n(in + row * window.in_width, window.width, out + row * window.width);
      }
    }
  });
}

template <class T>
void crop2d_backward(const T* dy, T* dx, const Crop2dWindow& window) {
  const std::int64_t in_plane = window.in_height * window.in_width, out_plane = window.height * window.width;
  const std::int64_t right = window.in_width - window.left - window.width;  // columns after the window
  for_planes(window, in_plane, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t plane = begin; plane < end; ++plane) {
      T* grad = dx + plane * in_plane;
      const T* upstream = dy + plane * out_plane;
      std::fill_n(grad, window.top * window.in_width, T{0});
      for (std::int64_t row = 0; row < window.height; ++row) {
        T* line = grad + (window.top + row) * window.in_width;
        std::fill_n(line, window.left, T{0});
        std::copy_n(upstream + row * window.width, window.width, line + window.left);
        std::fill_n(line + window.left + window.width, right, T{0});
      }
      const std::int64_t below = window.top + window.height;
      std::fill_n(grad + below * window.in_width, (window.in_height - below) * window.in_width, T{0});
    }
  });
}

template void crop2d_forward<float>(const float*, float*, const Crop2dWindow&);
template void crop2d_forward<double>(const double*, double*, const Crop2dWindow&);
template void crop2d_backward<float>(const float*, float*, const Crop2dWindow&);
template void crop2d_backward<double>(const double*, double*, const Crop2dWindow&);

}  // namespace kiln::kernels::cpu
