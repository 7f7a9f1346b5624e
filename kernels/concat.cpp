// CPU concatenation: row-by-row block copies, rows split over threads.
#include "kernels/concat.h"

#include <algorithm>
#include <numeric>

#include "kernels/parallel.h"

namespace kiln::kernels::cpu {
namespace {
constexpr std::int64_t grain_elements = 1 << 15;  // below this many copied elements, threads cost more than they save

// Calls copy(part, offset in that part, offset in the joined array, count) for every part's block of every row.
template <class Copy>
void for_each_block(std::span<const std::int64_t> inner_sizes, std::int64_t outer, Copy copy) {
  const std::int64_t row_size = std::accumulate(inner_sizes.begin(), inner_sizes.end(), std::int64_t{0});
  parallel_for(0, outer, std::max<std::int64_t>(1, grain_elements / std::max<std::int64_t>(1, row_size)),
               [&](std::int64_t begin, std::int64_t end) {
                 for (std::int64_t row = begin; row < end; ++row) {
                   std::int64_t column = row * row_size;
                   for (std::size_t part = 0; part < inner_sizes.size(); ++part) {
                     copy(part, row * inner_sizes[part], column, inner_sizes[part]);
                     column += inner_sizes[part];
                   }
                 }
               });
}
}  // namespace

template <class T>
void concat_forward(std::span<const T* const> parts, std::span<const std::int64_t> inner_sizes, T* out,
                    std::int64_t outer) {
  for_each_block(inner_sizes, outer, [&](std::size_t part, std::int64_t from, std::int64_t to, std::int64_t count) {
    std::copy_n(parts[part] + from, count, out + to);
  });
}

template <class T>
void concat_backward(const T* dout, std::span<T* const> parts, std::span<const std::int64_t> inner_sizes,
                     std::int64_t outer) {
  for_each_block(inner_sizes, outer, [&](std::size_t part, std::int64_t to, std::int64_t from, std::int64_t count) {
    if (parts[part] != nullptr) std::copy_n(dout + from, count, parts[part] + to);
  });
}

#define KILN_INSTANTIATE(T)                                                                                      \
  template void concat_forward<T>(std::span<const T* const>, std::span<const std::int64_t>, T*, std::int64_t); \
  template void concat_backward<T>(const T*, std::span<T* const>, std::span<const std::int64_t>, std::int64_t);
KILN_INSTANTIATE(float)
KILN_INSTANTIATE(double)
#undef KILN_INSTANTIATE

}  // namespace kiln::kernels::cpu
