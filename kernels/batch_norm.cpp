// CPU batch normalisation: one channel per task for the statistics and the backward, one (sample, channel) row per
// task for the normalisation.
#include "kernels/batch_norm.h"

#include <algorithm>
#include <cmath>

#include "kernels/parallel.h"

namespace kiln::kernels::cpu {
namespace {
constexpr std::int64_t grain_elements = 1 << 15;  // below this much work per task, threads cost more than they save

std::int64_t grain_for(std::int64_t elements_per_item) {
  return std::max<std::int64_t>(1, grain_elements / std::max<std::int64_t>(1, elements_per_item));
}

// Calls visit(index) for the index of every value of channel c, in a fixed order.
template <class Visit>
void for_channel(std::int64_t c, std::int64_t outer, std::int64_t channels, std::int64_t inner, Visit visit) {
  for (std::int64_t o = 0; o < outer; ++o) {
    const std::int64_t row = (o * channels + c) * inner;
    for (std::int64_t i = 0; i < inner; ++i) visit(row + i);
  }
}

double inverse_std(double variance, double eps) { return 1.0 / std::sqrt(variance + eps); }
}  // namespace

template <class T>
void batch_norm_statistics(const T* x, T* mean, T* variance, T* running_mean, T* running_var, std::int64_t outer,
                           std::int64_t channels, std::int64_t inner, double momentum) {
  const std::int64_t count = outer * inner;
  const double n = static_cast<double>(count);
  parallel_for(0, channels, grain_for(count), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t c = begin; c < end; ++c) {
      // Two passes (mean, then squared deviations) avoid the cancellation of E[x^2] - E[x]^2.
      double total = 0;
      for_channel(c, outer, channels, inner, [&](std::int64_t index) { total += x[index]; });
      const double batch_mean = total / n;
      double squares = 0;
      for_channel(c, outer, channels, inner, [&](std::int64_t index) {
        const double deviation = x[index] - batch_mean;
        squares += deviation * deviation;
      });
      const double batch_variance = squares / n;
      mean[c] = static_cast<T>(batch_mean);
      variance[c] = static_cast<T>(batch_variance);
      running_mean[c] = static_cast<T>((1 - momentum) * running_mean[c] + momentum * batch_mean);
      running_var[c] = static_cast<T>((1 - momentum) * running_var[c] + momentum * squares / (n - 1));
    }
  });
}

template <class T>
void batch_norm_forward(const T* x, const T* mean, const T* variance, const T* gamma, const T* beta, T* y,
                        std::int64_t outer, std::int64_t channels, std::int64_t inner, double eps) {
  parallel_for(0, outer * channels, grain_for(inner), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t row = begin; row < end; ++row) {
      const std::int64_t c = row % channels;
      const T row_mean = mean[c], row_beta = beta[c];
      const T row_scale = static_cast<T>(inverse_std(variance[c], eps) * gamma[c]);
      const T* in = x + row * inner;
      T* out = y + row * inner;
      for (std::int64_t i = 0; i < inner; ++i) out[i] = (in[i] - row_mean) * row_scale + row_beta;
    }
  });
}

template <class T>
void batch_norm_backward(const T* x, const T* dy, const T* mean, const T* variance, const T* gamma, T* dx, T* dgamma,
                         T* dbeta, std::int64_t outer, std::int64_t channels, std::int64_t inner, double eps,
                         bool batch_statistics) {
  const std::int64_t count = outer * inner;
  const double n = static_cast<double>(count);
  parallel_for(0, channels, grain_for(count), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t c = begin; c < end; ++c) {
      const double channel_mean = mean[c];
      const double inv_std = inverse_std(variance[c], eps);
      double sum_dy = 0, sum_dy_xhat = 0;
      for_channel(c, outer, channels, inner, [&](std::int64_t index) {
        sum_dy += dy[index];
        sum_dy_xhat += dy[index] * ((x[index] - channel_mean) * inv_std);
      });
      if (dgamma != nullptr) dgamma[c] = static_cast<T>(sum_dy_xhat);
      if (dbeta != nullptr) dbeta[c] = static_cast<T>(sum_dy);
      if (dx == nullptr) continue;
      const double scale = gamma[c] * inv_std;
      // With batch statistics, dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat)).
      const double mean_dy = batch_statistics ? sum_dy / n : 0.0;
      const double mean_dy_xhat = batch_statistics ? sum_dy_xhat / n : 0.0;
      for_channel(c, outer, channels, inner, [&](std::int64_t index) {
        const double xhat = (x[index] - channel_mean) * inv_std;
        dx[index] = static_cast<T>(scale * (dy[index] - mean_dy - xhat * mean_dy_xhat));
      });
    }
  });
}

#define KILN_INSTANTIATE(T)                                                                                       \
  template void batch_norm_statistics<T>(const T*, T*, T*, T*, T*, std::int64_t, std::int64_t, std::int64_t,     \
                                         double);                                                                 \
  template void batch_norm_forward<T>(const T*, const T*, const T*, const T*, const T*, T*, std::int64_t,         \
                                      std::int64_t, std::int64_t, double);                                        \
  template void batch_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, std::int64_t, \
                                       std::int64_t, std::int64_t, double, bool);
KILN_INSTANTIATE(float)
KILN_INSTANTIATE(double)
#undef KILN_INSTANTIATE

}  // namespace kiln::kernels::cpu
