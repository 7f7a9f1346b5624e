// linear: y = x * weight^T + bias through kernels/gemm (CPU, or on CUDA kiln's kernel or cuBLAS as selected in
// kiln/backend.h); the backward is two more products and a column sum.
#include "kiln/ops/linear.h"

#include "engine/ops/dispatch.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kiln/autograd.h"
#include "kiln/backend.h"

namespace kiln {
#if KILN_HAVE_CUDA_KERNELS
namespace {

// c = op(a) * op(b) on cuda:device_index by kiln's kernel or cuBLAS.
void cuda_gemm(GemmBackend backend, [[maybe_unused]] int device_index, bool transpose_a, bool transpose_b,
               std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda, const float* b,
               std::int64_t ldb, float* c, std::int64_t ldc) {
  if (backend == GemmBackend::cublas) {
    KILN_LIBRARY_CALL(kernels::cublas::gemm(device_index, transpose_a, transpose_b, m, n, k, 1.0f, a, lda, b, ldb,
                                            0.0f, c, ldc));
  } else {
    kernels::cuda::gemm(transpose_a, transpose_b, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
  }
}

}  // namespace
#endif

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const OpScope op_scope("linear");
  ops::check_rank("linear", "input", x, 2);
  ops::check_rank("linear", "weight", weight, 2);
  const std::int64_t batch = x.size(0), in_features = x.size(1), out_features = weight.size(0);
  KILN_CHECK(weight.size(1) == in_features, "linear: input ", shape_str(x.shape()), " has ", in_features,
             " features but weight ", shape_str(weight.shape()), " expects ", weight.size(1));
  if (bias.defined()) {
    ops::check_rank("linear", "bias", bias, 1);
    KILN_CHECK(bias.size(0) == out_features, "linear: bias ", shape_str(bias.shape()), " does not match the ",
               out_features, " output features of weight ", shape_str(weight.shape()));
  }
  ops::check_same_device_dtype("linear", {&x, &weight, &bias});

  Tensor y = Tensor::empty({batch, out_features}, x.dtype(), x.device());
  const GemmBackend backend = gemm_backend();  // the backward takes the forward's path
  if (ops::on_cuda("linear", x)) {
    KILN_CUDA_KERNEL_CALL({
      cuda_gemm(backend, x.device().index, false, true, batch, out_features, in_features, x.data<float>(), in_features,
                weight.data<float>(), in_features, y.data<float>(), out_features);
      if (bias.defined()) {
        kernels::cuda::bias_add_forward(y.data<float>(), bias.data<float>(), y.data<float>(), batch, out_features, 1);
      }
    });
  } else {
    ops::dispatch_float("linear", x, [&]<class T>() {
      kernels::cpu::gemm(false, true, batch, out_features, in_features, T(1), x.data<T>(), in_features,
                         weight.data<T>(), in_features, T(0), y.data<T>(), out_features);
      if (bias.defined()) {
        kernels::cpu::bias_add_forward(y.data<T>(), bias.data<T>(), y.data<T>(), batch, out_features, 1);
      }
    });
  }
  record(y, "linear", {x, weight, bias},
         [x, weight, batch, in_features, out_features, backend](const Tensor& dy, const GradientNeeds& needs) {
           const OpScope backward_scope("linear", Pass::backward);
           Tensor dx, dweight, dbias;
           if (needs[0]) dx = Tensor::empty(x.shape(), x.dtype(), x.device());
           if (needs[1]) dweight = Tensor::empty(weight.shape(), weight.dtype(), weight.device());
           if (needs[2]) dbias = Tensor::empty({out_features}, dy.dtype(), dy.device());
           if (ops::on_cuda("linear", dy)) {
             KILN_CUDA_KERNEL_CALL({
               if (needs[0]) {  // dx [batch, in] = dy [batch, out] * weight [out, in]
                 cuda_gemm(backend, dy.device().index, false, false, batch, in_features, out_features, dy.data<float>(),
                           out_features, weight.data<float>(), in_features, dx.data<float>(), in_features);
               }
               if (needs[1]) {  // dweight [out, in] = dy^T [out, batch] * x [batch, in]
                 cuda_gemm(backend, dy.device().index, true, false, out_features, in_features, batch, dy.data<float>(),
                           out_features, x.data<float>(), in_features, dweight.data<float>(), in_features);
               }
               if (needs[2]) {
                 kernels::cuda::bias_add_backward(dy.data<float>(), dbias.data<float>(), batch, out_features, 1);
               }
             });
           } else {
             ops::dispatch_float("linear", dy, [&]<class T>() {
               if (needs[0]) {  // dx [batch, in] = dy [batch, out] * weight [out, in]
                 kernels::cpu::gemm(false, false, batch, in_features, out_features, T(1), dy.data<T>(), out_features,
                                    weight.data<T>(), in_features, T(0), dx.data<T>(), in_features);
               }
               if (needs[1]) {  // dweight [out, in] = dy^T [out, batch] * x [batch, in]
                 kernels::cpu::gemm(true, false, out_features, in_features, batch, T(1), dy.data<T>(), out_features,
                                    x.data<T>(), in_features, T(0), dweight.data<T>(), in_features);
               }
               if (needs[2]) kernels::cpu::bias_add_backward(dy.data<T>(), dbias.data<T>(), batch, out_features, 1);
             });
           }
           return Gradients{dx, dweight, dbias};
         });
  return y;
}

}  // namespace kiln
