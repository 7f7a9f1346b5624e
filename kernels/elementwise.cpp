// CPU elementwise kernels: plain loops the compiler vectorises, split over threads for large arrays.
#include "kernels/elementwise.h"

#include <algorithm>

#include "kernels/parallel.h"

namespace kiln::kernels::cpu {
namespace {
constexpr std::int64_t grain = 1 << 15;  // below this, threads cost more than they save

template <class Body>
void for_each_range(std::int64_t n, Body body) {
  parallel_for(0, n, grain, [&](std::int64_t begin, std::int64_t end) { body(begin, end); });
}
}  // namespace

template <class T>
void add(const T* a, const T* b, T* out, std::int64_t n) {
  for_each_range(n, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) out[i] = a[i] + b[i];
  });
}

template <class T>
void mul(const T* a, const T* b, T* out, std::int64_t n) {
  for_each_range(n, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) out[i] = a[i] * b[i];
  });
}

template <class T>
void scale(const T* x, T factor, T* out, std::int64_t n) {
  for_each_range(n, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) out[i] = x[i] * factor;
  });
}

template <class T>
void axpy(const T* a, T factor, const T* b, T* out, std::int64_t n) {
  for_each_range(n, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) out[i] = a[i] * factor + b[i];
  });
}

template <class T>
void relu_forward(const T* x, T* y, std::int64_t n) {
  for_each_range(n, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
  });
}

template <class T>
void relu_backward(const T* x, const T* dy, T* dx, std::int64_t n) {
  for_each_range(n, [&](std::int64_t begin, std::int64_t end) {
    // dy is read whether or not it is passed on: a conditional load would keep the loop from vectorising.
    for (std::int64_t i = begin; i < end; ++i) {
      const T gradient = dy[i];
      dx[i] = x[i] > T(0) ? gradient : T(0);
    }
  });
}

template <class T>
void relu6_forward(const T* x, T* y, std::int64_t n) {
  for_each_range(n, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) y[i] = std::min(std::max(x[i], T(0)), T(6));
  });
}

template <class T>
void relu6_backward(const T* x, const T* dy, T* dx, std::int64_t n) {
  for_each_range(n, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const T gradient = dy[i];  // read unconditionally, as in relu_backward
      dx[i] = (x[i] > T(0)) & (x[i] < T(6)) ? gradient : T(0);
    }
  });
}

template <class T>
void bias_add_forward(const T* x, const T* bias, T* y, std::int64_t outer, std::int64_t channels,
                      std::int64_t inner) {
  parallel_for(0, outer * channels, std::max<std::int64_t>(1, grain / std::max<std::int64_t>(inner, 1)),
               [&](std::int64_t begin, std::int64_t end) {
                 for (std::int64_t row = begin; row < end; ++row) {
                   const T value = bias[row % channels];
                   const T* in = x + row * inner;
                   T* out = y + row * inner;
                   for (std::int64_t i = 0; i < inner; ++i) out[i] = in[i] + value;
                 }
               });
}

template <class T>
void bias_add_backward(const T* dy, T* dbias, std::int64_t outer, std::int64_t channels, std::int64_t inner) {
  parallel_for(0, channels, 1, [&](std::int64_t begin, std::int64_t end) {
    // Eight running sums added at the end: one sum is a single chain of dependent additions, which the compiler
    // must keep in order (no vectorising) and which waits on each addition's latency.
    constexpr std::int64_t lanes = 8;
    for (std::int64_t c = begin; c < end; ++c) {
      T partial[lanes] = {};
      for (std::int64_t o = 0; o < outer; ++o) {
        const T* row = dy + (o * channels + c) * inner;
        std::int64_t i = 0;
        for (; i + lanes <= inner; i += lanes) {
          for (std::int64_t lane = 0; lane < lanes; ++lane) partial[lane] += row[i + lane];
        }
        for (; i < inner; ++i) partial[0] += row[i];
      }
      T total = 0;
      for (const T value : partial) total += value;
      dbias[c] = total;
    }
  });
}

#define KILN_INSTANTIATE(T)                                                                         \
  template void add<T>(const T*, const T*, T*, std::int64_t);                                       \
  template void mul<T>(const T*, const T*, T*, std::int64_t);                                       \
  template void scale<T>(const T*, T, T*, std::int64_t);                                            \
  template void axpy<T>(const T*, T, const T*, T*, std::int64_t);                                   \
  template void relu_forward<T>(const T*, T*, std::int64_t);                                        \
  template void relu_backward<T>(const T*, const T*, T*, std::int64_t);                             \
  template void relu6_forward<T>(const T*, T*, std::int64_t);                                       \
  template void relu6_backward<T>(const T*, const T*, T*, std::int64_t);                            \
  template void bias_add_forward<T>(const T*, const T*, T*, std::int64_t, std::int64_t, std::int64_t); \
  template void bias_add_backward<T>(const T*, T*, std::int64_t, std::int64_t, std::int64_t);
KILN_INSTANTIATE(float)
KILN_INSTANTIATE(double)
#undef KILN_INSTANTIATE

}  // namespace kiln::kernels::cpu
