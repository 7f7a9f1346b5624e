// Batch normalisation through cuDNN's legacy batch-norm calls (deprecated in cuDNN 9, still shipped), in
// CUDNN_BATCHNORM_SPATIAL mode on x viewed as [outer, channels, inner, 1]. cuDNN updates the running variance with
// the unbiased batch variance, as kiln's own kernels do.
#include "base/cuda/context.h"
#include "base/cuda/cudnn_descriptors.h"
#include "kernels/batch_norm.h"

namespace kiln::kernels::cudnn {
namespace {

// The descriptors every call needs: x (also y, dy, dx) and the per-channel vectors derived from it.
struct Problem {
  kiln::cuda::TensorDescriptor x, channel;

  Problem(std::int64_t outer, std::int64_t channels, std::int64_t inner, double eps) {
    KILN_CHECK(eps >= CUDNN_BN_MIN_EPSILON, "batch_norm (cuDNN): eps ", eps, " is below cuDNN's minimum ",
               CUDNN_BN_MIN_EPSILON);
    kiln::cuda::set_nchw(x, outer, channels, inner, 1);
    KILN_CUDNN_CHECK(cudnnDeriveBNTensorDescriptor(channel.get(), x.get(), CUDNN_BATCHNORM_SPATIAL));
  }
};

constexpr float one = 1.0f, zero = 0.0f;

}  // namespace

void batch_norm_forward_training(int device_index, const float* x, const float* gamma, const float* beta, float* y,
                                 float* running_mean, float* running_var, float* saved_mean, float* saved_inv_std,
                                 std::int64_t outer, std::int64_t channels, std::int64_t inner, double momentum,
                                 double eps) {
  const cudnnHandle_t handle = kiln::cuda::Context::get(device_index).cudnn();
  const Problem p(outer, channels, inner, eps);
  KILN_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, p.x.get(), x,
                                                          p.x.get(), y, p.channel.get(), gamma, beta, momentum,
                                                          running_mean, running_var, eps, saved_mean, saved_inv_std));
}

void batch_norm_forward_inference(int device_index, const float* x, const float* mean, const float* variance,
                                  const float* gamma, const float* beta, float* y, std::int64_t outer,
                                  std::int64_t channels, std::int64_t inner, double eps) {
  const cudnnHandle_t handle = kiln::cuda::Context::get(device_index).cudnn();
  const Problem p(outer, channels, inner, eps);
  KILN_CUDNN_CHECK(cudnnBatchNormalizationForwardInference(handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, p.x.get(), x,
                                                           p.x.get(), y, p.channel.get(), gamma, beta, mean, variance,
                                                           eps));
}

void batch_norm_backward_training(int device_index, const float* x, const float* dy, const float* gamma,
                                  const float* saved_mean, const float* saved_inv_std, float* dx, float* dgamma,
                                  float* dbeta, std::int64_t outer, std::int64_t channels, std::int64_t inner,
                                  double eps) {
  const cudnnHandle_t handle = kiln::cuda::Context::get(device_index).cudnn();
  const Problem p(outer, channels, inner, eps);
  KILN_CUDNN_CHECK(cudnnBatchNormalizationBackward(handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, p.x.get(),
                                                   x, p.x.get(), dy, p.x.get(), dx, p.channel.get(), gamma, dgamma,
                                                   dbeta, eps, saved_mean, saved_inv_std));
}

}  // namespace kiln::kernels::cudnn
