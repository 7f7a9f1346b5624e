// CPU confusion counts: one pass over the rows in order.
#include "kernels/metrics.h"

namespace kiln::kernels::cpu {

template <class T>
void accumulate_confusion(const T* logits, const std::int32_t* labels, std::int32_t* confusion, std::int64_t rows,
                          std::int64_t classes) {
  for (std::int64_t row = 0; row < rows; ++row) {
    ++confusion[labels[row] * classes + predicted_class(logits + row * classes, classes)];
  }
}

template void accumulate_confusion<float>(const float*, const std::int32_t*, std::int32_t*, std::int64_t,
                                          std::int64_t);
template void accumulate_confusion<double>(const double*, const std::int32_t*, std::int32_t*, std::int64_t,
                                           std::int64_t);

}  // namespace kiln::kernels::cpu
