#include "kernels/reduce.h"

#include <algorithm>
#include <vector>

#include "kernels/parallel.h"

namespace kiln::kernels::cpu {

template <class T>
T sum(const T* x, std::int64_t n) {
  // Fixed chunking (independent of the thread count) keeps the result bit-identical across machines.
  constexpr std::int64_t chunk = 1 << 14;
  const std::int64_t chunks = (n + chunk - 1) / chunk;
  std::vector<double> partial(static_cast<std::size_t>(chunks), 0.0);
  parallel_for(0, chunks, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t c = begin; c < end; ++c) {
      double total = 0;
      const std::int64_t stop = std::min(n, (c + 1) * chunk);
      for (std::int64_t i = c * chunk; i < stop; ++i) total += x[i];
      partial[static_cast<std::size_t>(c)] = total;
    }
  });
  double total = 0;
  for (const double value : partial) total += value;
  return static_cast<T>(total);
}

template <class T>
void broadcast_scaled(const T* value, double factor, T* out, std::int64_t n) {
  std::fill_n(out, n, static_cast<T>(static_cast<double>(*value) * factor));
}

template float sum<float>(const float*, std::int64_t);
template double sum<double>(const double*, std::int64_t);
template void broadcast_scaled<float>(const float*, double, float*, std::int64_t);
template void broadcast_scaled<double>(const double*, double, double*, std::int64_t);

}  // namespace kiln::kernels::cpu
