#pragma once
// Classification metrics kernels: a confusion matrix [classes, classes] (int32, row = label, column = prediction)
// accumulated from logits [rows, classes]. The prediction of a row is the index of its largest score, the first on
// ties; a NaN never beats the best so far (only a NaN in column 0 stays the prediction). No atomics: deterministic.
#include <cstdint>

#include "base/cuda/index_check.h"
#include "kernels/host_device.h"

namespace kiln::kernels {

template <class T>
KILN_HOST_DEVICE inline std::int32_t predicted_class(const T* scores, std::int64_t classes) {
  std::int64_t best = 0;
  for (std::int64_t c = 1; c < classes; ++c) {
    if (scores[c] > scores[best]) best = c;
  }
  return static_cast<std::int32_t>(best);
}

}  // namespace kiln::kernels

namespace kiln::kernels::cpu {

// confusion[labels[r]][predicted_class(row r)] += 1 for every row; every label must already be checked to lie in
// [0, classes).
template <class T>
void accumulate_confusion(const T* logits, const std::int32_t* labels, std::int32_t* confusion, std::int64_t rows,
                          std::int64_t classes);

}  // namespace kiln::kernels::cpu

// CUDA version (float32 logits, device pointers), in metrics.cu. Rows are counted in int32.
namespace kiln::kernels::cuda {

// As the CPU version, for every row whose label lies in [0, classes); the first row with a label outside is left out
// and reported into `failure` as `check` describes (base/cuda/index_check.h). `predictions` is scratch of `rows`
// int32. A kernel writes each row's prediction, then one block counts them, each thread owning whole rows of the
// confusion matrix.
void accumulate_confusion(const float* logits, const std::int32_t* labels, std::int32_t* confusion, std::int64_t rows,
                          std::int64_t classes, const kiln::cuda::IndexCheck& check,
                          kiln::cuda::IndexCheckFailure* failure, std::int32_t* predictions);

}  // namespace kiln::kernels::cuda
