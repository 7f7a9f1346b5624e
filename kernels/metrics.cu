// CUDA confusion counts: a fixed grid walks the positions, each thread adding its positions' counts with integer
// atomics (order-independent sums) and each block keeping the first invalid position it met; one block then reduces
// those to the first overall and reports it.
#include "kernels/index_check.h"
#include "kernels/metrics.h"

namespace kiln::kernels::cuda {
namespace {

__global__ void count_kernel(const float* logits, const std::int32_t* labels, std::int32_t positions,
                             std::int32_t classes, std::int32_t inner, std::int32_t ignore_label,
                             std::int32_t* confusion, std::int32_t* invalid_partials) {
  std::int32_t first_invalid = positions;
  KILN_GRID_STRIDE_LOOP(position, positions) {
    const std::int32_t label = labels[position];
    if (label == ignore_label) continue;
    if (label < 0 || label >= classes) {
      if (first_invalid == positions) first_invalid = static_cast<std::int32_t>(position);
      continue;
    }
    const std::int64_t o = position / inner, i = position % inner;
    const std::int32_t prediction = predicted_class(logits + o * classes * inner + i, classes, inner);
    atomicAdd(confusion + static_cast<std::int64_t>(label) * classes + prediction, 1);
  }
  first_invalid = block_min(first_invalid);
  if (threadIdx.x == 0) invalid_partials[blockIdx.x] = first_invalid;
}

__global__ void report_kernel(const std::int32_t* labels, std::int32_t positions, const std::int32_t* invalid_partials,
                              std::int32_t partials, IndexCheck check, IndexCheckFailure* failure) {
  std::int32_t first_invalid = positions;
  for (auto b = static_cast<std::int32_t>(threadIdx.x); b < partials; b += static_cast<std::int32_t>(blockDim.x)) {
    first_invalid = invalid_partials[b] < first_invalid ? invalid_partials[b] : first_invalid;
  }
  first_invalid = block_min(first_invalid);
  if (threadIdx.x == 0 && first_invalid < positions) {
    report_index_failure(failure, check, first_invalid, labels[first_invalid]);
  }
}

}  // namespace

void accumulate_confusion(const float* logits, const std::int32_t* labels, std::int32_t* confusion, std::int64_t outer,
                          std::int64_t classes, std::int64_t inner, std::int32_t ignore_label, const IndexCheck& check,
                          IndexCheckFailure* failure, std::int32_t* invalid_partials) {
  const std::int64_t positions = outer * inner;
  if (positions == 0) return;
  const dim3 grid(static_cast<unsigned>(std::min<std::int64_t>(grid_for(positions).x, confusion_partials)));
  KILN_LAUNCH(count_kernel, grid, dim3(threads_per_block), 0, nullptr, logits, labels,
              static_cast<std::int32_t>(positions), static_cast<std::int32_t>(classes),
              static_cast<std::int32_t>(inner), ignore_label, confusion, invalid_partials);
  KILN_LAUNCH(report_kernel, dim3(1), dim3(threads_per_block), 0, nullptr, labels,
              static_cast<std::int32_t>(positions), invalid_partials, static_cast<std::int32_t>(grid.x), check,
              failure);
}

}  // namespace kiln::kernels::cuda
