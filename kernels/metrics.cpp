// CPU confusion counts: one pass over the positions in order.
#include "kernels/metrics.h"

namespace kiln::kernels::cpu {

template <class T>
void accumulate_confusion(const T* logits, const std::int32_t* labels, std::int32_t* confusion, std::int64_t outer,
                          std::int64_t classes, std::int64_t inner, std::int32_t ignore_label) {
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t i = 0; i < inner; ++i) {
      const std::int32_t label = labels[o * inner + i];
      if (label == ignore_label) continue;
      ++confusion[label * classes + predicted_class(logits + o * classes * inner + i, classes, inner)];
    }
  }
}

#define KILN_INSTANTIATE(T)                                                                                          \
  template void accumulate_confusion<T>(const T*, const std::int32_t*, std::int32_t*, std::int64_t, std::int64_t, \
                                        std::int64_t, std::int32_t);
KILN_INSTANTIATE(float)
KILN_INSTANTIATE(double)
#undef KILN_INSTANTIATE

}  // namespace kiln::kernels::cpu
