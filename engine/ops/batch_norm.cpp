// Batch normalisation: argument checks, mode handling and the backward, on top of kernels/batch_norm (CPU, or on CUDA
// kiln's kernels or cuDNN as selected in kiln/backend.h). cuDNN's backward assumes batch statistics, so with cuDNN
// only train mode runs entirely in cuDNN; eval and frozen modes take cuDNN's inference forward and kiln's backward for
// constant statistics.
#include "kiln/ops/batch_norm.h"

#include <algorithm>

#include "engine/ops/dispatch.h"
#include "kernels/batch_norm.h"
#include "kiln/autograd.h"
#include "kiln/backend.h"

namespace kiln {
namespace {

void check_channel_vector(const char* name, const Tensor& vector, const Tensor& x) {
  ops::check_rank("batch_norm", name, vector, 1);
  KILN_CHECK(vector.size(0) == x.size(1), "batch_norm: ", name, " ", shape_str(vector.shape()), " does not match the ",
             x.size(1), " channels of x ", shape_str(x.shape()));
}

// The data of a gradient buffer, or null when that gradient is not wanted (the kernels then skip it).
template <class T>
T* data_or_null(const Tensor& tensor) {
  return tensor.defined() ? tensor.data<T>() : nullptr;
}

#if KILN_HAVE_CUDA
// Train mode on cuDNN: its forward saves the batch mean and 1 / sqrt(variance + eps), which its backward takes.
Tensor cudnn_train_batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                              const Tensor& running_var, const BatchNormOptions& options, std::int64_t outer,
                              std::int64_t channels, std::int64_t inner) {
  const int device_index = x.device().index;
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  const Tensor saved_mean = Tensor::empty({channels}, x.dtype(), x.device());
  const Tensor saved_inv_std = Tensor::empty({channels}, x.dtype(), x.device());
  kernels::cudnn::batch_norm_forward_training(device_index, x.data<float>(), gamma.data<float>(), beta.data<float>(),
                                              y.data<float>(), running_mean.data<float>(), running_var.data<float>(),
                                              saved_mean.data<float>(), saved_inv_std.data<float>(), outer, channels,
                                              inner, options.momentum, options.eps);
  record(y, "batch_norm", {x, gamma, beta}, [=](const Tensor& dy, const GradientNeeds& needs) {
    const OpScope backward_scope("batch_norm", Pass::backward);
    // cuDNN writes all three gradients; the unwanted ones are dropped.
    Gradients gradients{Tensor::empty(x.shape(), x.dtype(), x.device()),
                                  Tensor::empty({channels}, x.dtype(), x.device()),
                                  Tensor::empty({channels}, x.dtype(), x.device())};
    kernels::cudnn::batch_norm_backward_training(device_index, x.data<float>(), dy.data<float>(), gamma.data<float>(),
                                                 saved_mean.data<float>(), saved_inv_std.data<float>(),
                                                 gradients[0].data<float>(), gradients[1].data<float>(),
                                                 gradients[2].data<float>(), outer, channels, inner, options.eps);
    for (std::size_t i = 0; i < gradients.size(); ++i) {
      if (!needs[i]) gradients[i] = Tensor();
    }
    return gradients;
  });
  return y;
}
#endif

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, const BatchNormOptions& options) {
  const OpScope op_scope("batch_norm");
  KILN_CHECK(x.defined() && (x.dim() == 2 || x.dim() == 4), "batch_norm: x must be [N, C] or [N, C, H, W], got ",
             x.defined() ? describe(x) : "an undefined tensor");
  check_channel_vector("gamma", gamma, x);
  check_channel_vector("beta", beta, x);
  check_channel_vector("running_mean", running_mean, x);
  check_channel_vector("running_var", running_var, x);
  ops::check_same_device_dtype("batch_norm", {&x, &gamma, &beta, &running_mean, &running_var});
  const bool cuda = ops::on_cuda("batch_norm", x);
  const std::int64_t outer = x.size(0), channels = x.size(1);
  const std::int64_t inner = x.numel() / std::max<std::int64_t>(1, outer * channels);
  const bool batch_statistics = options.mode == BatchNormMode::train;
  KILN_CHECK(!batch_statistics || outer * inner > 1,
             "batch_norm: train mode needs more than one value per channel, got input shape ", shape_str(x.shape()));
  const bool cudnn = cuda && bn_backend() == BnBackend::cudnn;
  if (cudnn && batch_statistics) {
    KILN_LIBRARY_CALL(
        return cudnn_train_batch_norm(x, gamma, beta, running_mean, running_var, options, outer, channels, inner));
  }

  // The statistics x is normalised with: fresh batch ones in train mode, otherwise a copy of the running ones (so a
  // later in-place update of the buffers cannot change this op's backward).
  Tensor mean, variance;
  if (batch_statistics) {
    mean = Tensor::empty({channels}, x.dtype(), x.device());
    variance = Tensor::empty({channels}, x.dtype(), x.device());
    if (cuda) {
      KILN_CUDA_KERNEL_CALL(kernels::cuda::batch_norm_statistics(
          x.data<float>(), mean.data<float>(), variance.data<float>(), running_mean.data<float>(),
          running_var.data<float>(), outer, channels, inner, options.momentum));
    } else {
      ops::dispatch_float("batch_norm", x, [&]<class T>() {
        kernels::cpu::batch_norm_statistics(x.data<T>(), mean.data<T>(), variance.data<T>(), running_mean.data<T>(),
                                            running_var.data<T>(), outer, channels, inner, options.momentum);
      });
    }
  } else {
    mean = running_mean.detach().clone();
    variance = running_var.detach().clone();
  }
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  const double eps = options.eps;
  if (cudnn) {
    KILN_LIBRARY_CALL(kernels::cudnn::batch_norm_forward_inference(
        x.device().index, x.data<float>(), mean.data<float>(), variance.data<float>(), gamma.data<float>(),
        beta.data<float>(), y.data<float>(), outer, channels, inner, eps));
  } else if (cuda) {
    KILN_CUDA_KERNEL_CALL(kernels::cuda::batch_norm_forward(x.data<float>(), mean.data<float>(),
                                                            variance.data<float>(), gamma.data<float>(),
                                                            beta.data<float>(), y.data<float>(), outer, channels,
                                                            inner, eps));
  } else {
    ops::dispatch_float("batch_norm", x, [&]<class T>() {
      kernels::cpu::batch_norm_forward(x.data<T>(), mean.data<T>(), variance.data<T>(), gamma.data<T>(),
                                       beta.data<T>(), y.data<T>(), outer, channels, inner, eps);
    });
  }
  record(y, "batch_norm", {x, gamma, beta},
         [=](const Tensor& dy, const GradientNeeds& needs) {
           const OpScope backward_scope("batch_norm", Pass::backward);
           Gradients gradients(3);
           if (needs[0]) gradients[0] = Tensor::empty(x.shape(), x.dtype(), x.device());
           if (needs[1]) gradients[1] = Tensor::empty({channels}, x.dtype(), x.device());
           if (needs[2]) gradients[2] = Tensor::empty({channels}, x.dtype(), x.device());
           if (cuda) {
             KILN_CUDA_KERNEL_CALL({
               const Tensor channel_sums = Tensor::empty({2 * channels}, x.dtype(), x.device());
               kernels::cuda::batch_norm_backward(
                   x.data<float>(), dy.data<float>(), mean.data<float>(), variance.data<float>(), gamma.data<float>(),
                   data_or_null<float>(gradients[0]), data_or_null<float>(gradients[1]),
                   data_or_null<float>(gradients[2]), channel_sums.data<float>(), outer, channels, inner, eps,
                   batch_statistics);
             });
           } else {
             ops::dispatch_float("batch_norm", x, [&]<class T>() {
               kernels::cpu::batch_norm_backward(x.data<T>(), dy.data<T>(), mean.data<T>(), variance.data<T>(),
                                                 gamma.data<T>(), data_or_null<T>(gradients[0]),
                                                 data_or_null<T>(gradients[1]), data_or_null<T>(gradients[2]), outer,
                                                 channels, inner, eps, batch_statistics);
             });
           }
           return gradients;
         });
  return y;
}

}  // namespace kiln
