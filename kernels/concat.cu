// CUDA concatenation along dim 1: one launch per part, each a copy kernel that places the part's columns at their
// offset in the joined rows (backward: the reverse copy).
#include <numeric>

#include "kernels/concat.h"
#include "kernels/launch.h"

namespace kiln::kernels::cuda {
namespace {

// One thread per element (r, c) of one part: out[r, offset + c] = part[r, c].
__global__ void concat_part_kernel(const float* part, float* out, std::int64_t outer, std::int64_t inner,
                                   std::int64_t row_size, std::int64_t offset) {
  KILN_GRID_STRIDE_LOOP(index, outer * inner) {
    const std::int64_t row = index / inner, column = index % inner;
    out[row * row_size + offset + column] = part[index];
  }
}

// One thread per element (r, c) of one part: part[r, c] = dout[r, offset + c].
__global__ void split_part_kernel(const float* dout, float* part, std::int64_t outer, std::int64_t inner,
                                  std::int64_t row_size, std::int64_t offset) {
  KILN_GRID_STRIDE_LOOP(index, outer * inner) {
    const std::int64_t row = index / inner, column = index % inner;
    part[index] = dout[row * row_size + offset + column];
  }
}

std::int64_t row_size_of(std::span<const std::int64_t> inner_sizes) {
  return std::accumulate(inner_sizes.begin(), inner_sizes.end(), std::int64_t{0});
}

}  // namespace

void concat_forward(std::span<const float* const> parts, std::span<const std::int64_t> inner_sizes, float* out,
                    std::int64_t outer) {
  const std::int64_t row_size = row_size_of(inner_sizes);
  std::int64_t offset = 0;
  for (std::size_t part = 0; part < parts.size(); ++part) {
    const std::int64_t n = outer * inner_sizes[part];
    if (n > 0) {
      KILN_LAUNCH(concat_part_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, parts[part], out, outer,
                  inner_sizes[part], row_size, offset);
    }
    offset += inner_sizes[part];
  }
}

void concat_backward(const float* dout, std::span<float* const> parts, std::span<const std::int64_t> inner_sizes,
                     std::int64_t outer) {
  const std::int64_t row_size = row_size_of(inner_sizes);
  std::int64_t offset = 0;
  for (std::size_t part = 0; part < parts.size(); ++part) {
    const std::int64_t n = outer * inner_sizes[part];
    if (n > 0 && parts[part] != nullptr) {
      KILN_LAUNCH(split_part_kernel, grid_for(n), dim3(threads_per_block), 0, nullptr, dout, parts[part], outer,
                  inner_sizes[part], row_size, offset);
    }
    offset += inner_sizes[part];
  }
}

}  // namespace kiln::kernels::cuda
