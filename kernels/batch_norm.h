#pragma once
// Batch normalisation kernels over x [outer, channels, inner] ([N, C] is inner 1, [N, C, H, W] is inner H*W), each
// channel normalised over its outer * inner values. Per-channel arrays (mean, variance, gamma, ...) have `channels`
// entries. Statistics accumulate in double.
#include <cstdint>

namespace kiln::kernels::cpu {

// Batch mean and biased variance per channel, written to mean and variance; then, PyTorch's convention,
// running = (1 - momentum) * running + momentum * batch with the unbiased variance (count / (count - 1)).
// Needs count = outer * inner > 1.
template <class T>
void batch_norm_statistics(const T* x, T* mean, T* variance, T* running_mean, T* running_var, std::int64_t outer,
                           std::int64_t channels, std::int64_t inner, double momentum);

// y = (x - mean[c]) / sqrt(variance[c] + eps) * gamma[c] + beta[c]
template <class T>
void batch_norm_forward(const T* x, const T* mean, const T* variance, const T* gamma, const T* beta, T* y,
                        std::int64_t outer, std::int64_t channels, std::int64_t inner, double eps);

// Gradients of batch_norm_forward given dy. batch_statistics: mean and variance were computed from x (train mode),
// so dx also carries their gradient; otherwise they are constants (eval, frozen). dx, dgamma, dbeta may each be null
// when not wanted.
template <class T>
void batch_norm_backward(const T* x, const T* dy, const T* mean, const T* variance, const T* gamma, T* dx, T* dgamma,
                         T* dbeta, std::int64_t outer, std::int64_t channels, std::int64_t inner, double eps,
                         bool batch_statistics);

}  // namespace kiln::kernels::cpu

// CUDA versions (float32, device pointers), in batch_norm.cu, with the contracts above. Statistics accumulate in float
// (per-thread partials, then a fixed-order block tree): deterministic, no atomics.
namespace kiln::kernels::cuda {

void batch_norm_statistics(const float* x, float* mean, float* variance, float* running_mean, float* running_var,
                           std::int64_t outer, std::int64_t channels, std::int64_t inner, double momentum);

void batch_norm_forward(const float* x, const float* mean, const float* variance, const float* gamma,
                        const float* beta, float* y, std::int64_t outer, std::int64_t channels, std::int64_t inner,
                        double eps);

// channel_sums: scratch of 2 * channels floats (the per-channel sums of dy and dy * xhat that dx needs).
void batch_norm_backward(const float* x, const float* dy, const float* mean, const float* variance,
                         const float* gamma, float* dx, float* dgamma, float* dbeta, float* channel_sums,
                         std::int64_t outer, std::int64_t channels, std::int64_t inner, double eps,
                         bool batch_statistics);

}  // namespace kiln::kernels::cuda

// cuDNN versions (float32, device pointers on cuda:device_index), in batch_norm_cudnn.cu (KILN_CUDA builds only):
// per-channel ("spatial") normalisation with the contracts above. cuDNN's backward assumes batch statistics, so only
// train mode uses it; eval and frozen modes normalise with batch_norm_forward_inference and take the native
// cuda::batch_norm_backward with batch_statistics = false.
namespace kiln::kernels::cudnn {

// Train mode: y from the batch statistics, running statistics updated as cpu::batch_norm_statistics does, and the
// batch mean and 1 / sqrt(variance + eps) per channel saved for batch_norm_backward_training.
void batch_norm_forward_training(int device_index, const float* x, const float* gamma, const float* beta, float* y,
                                 float* running_mean, float* running_var, float* saved_mean, float* saved_inv_std,
                                 std::int64_t outer, std::int64_t channels, std::int64_t inner, double momentum,
                                 double eps);
// Eval and frozen modes: y from the given statistics.
void batch_norm_forward_inference(int device_index, const float* x, const float* mean, const float* variance,
                                  const float* gamma, const float* beta, float* y, std::int64_t outer,
                                  std::int64_t channels, std::int64_t inner, double eps);
// Train mode's gradients (all three are written).
void batch_norm_backward_training(int device_index, const float* x, const float* dy, const float* gamma,
                                  const float* saved_mean, const float* saved_inv_std, float* dx, float* dgamma,
                                  float* dbeta, std::int64_t outer, std::int64_t channels, std::int64_t inner,
                                  double eps);

}  // namespace kiln::kernels::cudnn
