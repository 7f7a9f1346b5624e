// CUDA confusion counts: one thread per row finds its prediction, then one block adds the rows up, each thread owning
// whole rows of the confusion matrix (so no two threads write one cell) and scanning the rows in order.
#include "kernels/block_reduce.h"
#include "kernels/index_check.h"
#include "kernels/metrics.h"

namespace kiln::kernels::cuda {
namespace {

__global__ void predictions_kernel(const float* logits, std::int64_t rows, std::int64_t classes,
                                   std::int32_t* predictions) {
  KILN_GRID_STRIDE_LOOP(row, rows) predictions[row] = predicted_class(logits + row * classes, classes);
}

__global__ void count_kernel(const std::int32_t* labels, const std::int32_t* predictions, std::int32_t rows,
                             std::int32_t classes, std::int32_t* confusion, IndexCheck check,
                             IndexCheckFailure* failure) {
  const auto thread = static_cast<std::int32_t>(threadIdx.x), threads = static_cast<std::int32_t>(blockDim.x);
  std::int32_t first_invalid = rows;
  for (std::int32_t row = thread; row < rows; row += threads) {
    if ((labels[row] < 0 || labels[row] >= classes) && first_invalid == rows) first_invalid = row;
  }
  first_invalid = block_min(first_invalid);
  if (thread == 0 && first_invalid < rows) report_index_failure(failure, check, first_invalid, labels[first_invalid]);
  for (std::int32_t label = thread; label < classes; label += threads) {
    std::int32_t* counts = confusion + static_cast<std::int64_t>(label) * classes;
    for (std::int32_t row = 0; row < rows; ++row) {
      if (labels[row] == label) ++counts[predictions[row]];
    }
  }
}

}  // namespace

void accumulate_confusion(const float* logits, const std::int32_t* labels, std::int32_t* confusion, std::int64_t rows,
                          std::int64_t classes, const IndexCheck& check, IndexCheckFailure* failure,
                          std::int32_t* predictions) {
  if (rows == 0) return;
  KILN_LAUNCH(predictions_kernel, grid_for(rows), dim3(threads_per_block), 0, nullptr, logits, rows, classes,
              predictions);
  KILN_LAUNCH(count_kernel, dim3(1), dim3(reduction_threads(std::max(rows, classes))), 0, nullptr, labels, predictions,
              static_cast<std::int32_t>(rows), static_cast<std::int32_t>(classes), confusion, check, failure);
}

}  // namespace kiln::kernels::cuda
