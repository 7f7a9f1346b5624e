// CPU softmax cross-entropy, split over positions (a position is one sample, or one pixel of one sample).
#include "kernels/cross_entropy.h"

#include <algorithm>
#include <cmath>

#include "kernels/host_scratch.h"
#include "kernels/parallel.h"

namespace kiln::kernels::cpu {
namespace {
constexpr std::int64_t grain_elements = 1 << 15;  // below this much work per task, threads cost more than they save

std::int64_t positions_per_task(std::int64_t classes) {
  return std::max<std::int64_t>(1, grain_elements / std::max<std::int64_t>(1, classes));
}

// The scores of one position: scores[c * stride] for c in [0, classes).
template <class T>
struct Scores {
  const T* first;
  std::int64_t stride;
  T operator[](std::int64_t c) const { return first[c * stride]; }
};

template <class T>
Scores<T> scores_at(const T* logits, std::int64_t position, std::int64_t classes, std::int64_t inner) {
  const std::int64_t o = position / inner, i = position % inner;
  return {logits + o * classes * inner + i, inner};
}

template <class T>
double log_sum_exp(Scores<T> scores, std::int64_t classes) {
  T largest = scores[0];
  for (std::int64_t c = 1; c < classes; ++c) largest = std::max(largest, scores[c]);
  double total = 0;
  for (std::int64_t c = 0; c < classes; ++c) total += std::exp(static_cast<double>(scores[c]) - largest);
  return largest + std::log(total);
}
}  // namespace

template <class T>
double cross_entropy_loss_sum(const T* logits, const std::int32_t* targets, const float* weights, std::int64_t outer,
                              std::int64_t classes, std::int64_t inner, std::int32_t ignore_index) {
  // Partial sums over fixed blocks of positions, added in block order: the same result for any thread count.
  const std::int64_t positions = outer * inner, block = positions_per_task(classes);
  const std::int64_t blocks = (positions + block - 1) / block;
  HostScratch<double> partials;
  double* partial = partials.reserve(static_cast<std::size_t>(blocks));  // every block writes its slot
  parallel_for(0, blocks, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t b = begin; b < end; ++b) {
      double total = 0;
      for (std::int64_t position = b * block; position < std::min(positions, (b + 1) * block); ++position) {
        const std::int32_t target = targets[position];
        if (target == ignore_index) continue;
        const Scores<T> scores = scores_at(logits, position, classes, inner);
        const double term = log_sum_exp(scores, classes) - scores[target];
        total += weights == nullptr ? term : weights[target] * term;
      }
      partial[b] = total;
    }
  });
  double total = 0;
  for (std::int64_t b = 0; b < blocks; ++b) total += partial[b];
  return total;
}

template <class T>
void cross_entropy_backward(const T* logits, const std::int32_t* targets, const float* weights, T* dlogits,
                            std::int64_t outer, std::int64_t classes, std::int64_t inner, std::int32_t ignore_index,
                            double scale) {
  parallel_for(0, outer * inner, positions_per_task(classes), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t position = begin; position < end; ++position) {
      const Scores<T> scores = scores_at(logits, position, classes, inner);
      T* gradient = dlogits + (scores.first - logits);
      const std::int32_t target = targets[position];
      if (target == ignore_index) {
        for (std::int64_t c = 0; c < classes; ++c) gradient[c * inner] = T(0);
        continue;
      }
      const double lse = log_sum_exp(scores, classes);
      const double factor = weights == nullptr ? scale : scale * weights[target];
      for (std::int64_t c = 0; c < classes; ++c) {
        const double softmax = std::exp(static_cast<double>(scores[c]) - lse);
        gradient[c * inner] = static_cast<T>((softmax - (c == target ? 1.0 : 0.0)) * factor);
      }
    }
  });
}

#define KILN_INSTANTIATE(T)                                                                                        \
  template double cross_entropy_loss_sum<T>(const T*, const std::int32_t*, const float*, std::int64_t,             \
                                            std::int64_t, std::int64_t, std::int32_t);                             \
  template void cross_entropy_backward<T>(const T*, const std::int32_t*, const float*, T*, std::int64_t,           \
                                          std::int64_t, std::int64_t, std::int32_t, double);
KILN_INSTANTIATE(float)
KILN_INSTANTIATE(double)
#undef KILN_INSTANTIATE

}  // namespace kiln::kernels::cpu
