// CPU permutation: the output is written row by row (its last dim), each row read from the input at a fixed stride;
// rows split over threads.
#include "kernels/permute.h"

#include <algorithm>

#include "kernels/parallel.h"

namespace kiln::kernels {

PermuteGeometry permute_geometry(std::span<const std::int64_t> in_sizes, std::span<const std::int64_t> dims) {
  std::int64_t in_strides[PermuteGeometry::max_rank] = {};
  std::int64_t stride = 1;
  for (auto d = static_cast<std::ptrdiff_t>(in_sizes.size()) - 1; d >= 0; --d) {
    in_strides[d] = stride;
    stride *= in_sizes[static_cast<std::size_t>(d)];
  }
  PermuteGeometry geometry;
  for (const std::int64_t dim : dims) {
    const std::int64_t size = in_sizes[static_cast<std::size_t>(dim)], in_stride = in_strides[dim];
    if (size == 1) continue;  // no effect on any offset
    const int last = geometry.rank - 1;
    if (last >= 0 && geometry.in_strides[last] == in_stride * size) {
      // Output dims last and dim are also adjacent, in that order, in the input: one dim.
      geometry.out_sizes[last] *= size;
      geometry.in_strides[last] = in_stride;
      continue;
    }
    geometry.out_sizes[geometry.rank] = size;
    geometry.in_strides[geometry.rank] = in_stride;
    ++geometry.rank;
  }
  if (geometry.rank == 0) {  // a single element
    geometry.rank = 1;
    geometry.out_sizes[0] = 1;
    geometry.in_strides[0] = 1;
  }
  return geometry;
}

}  // namespace kiln::kernels

namespace kiln::kernels::cpu {
namespace {
constexpr std::int64_t grain_elements = 1 << 15;  // below this many copied elements, threads cost more than they save
}  // namespace

template <class T>
void permute(const T* x, T* y, const PermuteGeometry& geometry) {
  const int outer_rank = geometry.rank - 1;
  const std::int64_t row_size = geometry.out_sizes[outer_rank], row_stride = geometry.in_strides[outer_rank];
  std::int64_t rows = 1;
  for (int d = 0; d < outer_rank; ++d) rows *= geometry.out_sizes[d];
  if (rows == 0 || row_size == 0) return;
  const auto copy_rows = [&](std::int64_t begin, std::int64_t end) {
    // The row's index over the outer dims, and the input offset it starts at, advanced like an odometer.
    std::int64_t index[PermuteGeometry::max_rank] = {};
    std::int64_t offset = 0;
    for (std::int64_t rest = begin, d = outer_rank - 1; d >= 0; --d) {
      index[d] = rest % geometry.out_sizes[d];
      rest /= geometry.out_sizes[d];
      offset += index[d] * geometry.in_strides[d];
    }
    for (std::int64_t row = begin; row < end; ++row) {
      T* out = y + row * row_size;
      const T* in = x + offset;
      if (row_stride == 1) {
        std::copy_n(in, row_size, out);
      } else {
        for (std::int64_t i = 0; i < row_size; ++i) out[i] = in[i * row_stride];
      }
      for (int d = outer_rank - 1; d >= 0; --d) {
        offset += geometry.in_strides[d];
        if (++index[d] < geometry.out_sizes[d]) break;
        offset -= index[d] * geometry.in_strides[d];
        index[d] = 0;
      }
    }
  };
  parallel_for(0, rows, std::max<std::int64_t>(1, grain_elements / row_size), copy_rows);
}

template void permute<float>(const float*, float*, const PermuteGeometry&);
template void permute<double>(const double*, double*, const PermuteGeometry&);
template void permute<std::int32_t>(const std::int32_t*, std::int32_t*, const PermuteGeometry&);

}  // namespace kiln::kernels::cpu
