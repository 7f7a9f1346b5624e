#pragma once
// Helpers every op uses: argument checks with clear messages, and dispatch on dtype and device. Every op also opens an
// OpScope (base/op_scope.h) for its forward and its backward, so that out-of-memory errors name it.
#include <initializer_list>
#include <string_view>

#include "base/op_scope.h"
#include "kiln/tensor.h"

// Wraps calls into kernels::cuda so that CPU-only builds, which have no such functions, compile; on_cuda() has thrown
// before such a call can be reached there.
#if KILN_HAVE_CUDA_KERNELS
#define KILN_CUDA_KERNEL_CALL(...) __VA_ARGS__
#else
#define KILN_CUDA_KERNEL_CALL(...) static_cast<void>(0)
#endif

// The same for the cuDNN/cuBLAS paths (kernels::cudnn, kernels::cublas), which only KILN_CUDA builds have; elsewhere
// the backend setters (kiln/backend.h) refuse to select them, so that such a call is never reached.
#if KILN_HAVE_CUDA
#define KILN_LIBRARY_CALL(...) __VA_ARGS__
#else
#define KILN_LIBRARY_CALL(...) static_cast<void>(0)
#endif

namespace kiln::ops {

// Throws unless `tensor` is defined and has `rank` dimensions.
void check_rank(std::string_view op, std::string_view name, const Tensor& tensor, std::int64_t rank);
// Throws unless all defined tensors share the first one's device and dtype.
void check_same_device_dtype(std::string_view op, std::initializer_list<const Tensor*> tensors);
// Throws unless the tensor is on the CPU (ops whose CUDA kernels are not built yet).
void require_cpu(std::string_view op, const Tensor& tensor);
// True when the tensor lives on a CUDA device; throws when this build has no CUDA kernels or the dtype is not
// float32 (the only dtype the CUDA kernels take).
bool on_cuda(std::string_view op, const Tensor& tensor);

// Calls body.template operator()<T>() with T = float or double for the tensor's dtype.
template <class Body>
decltype(auto) dispatch_float(std::string_view op, const Tensor& tensor, Body&& body) {
  switch (tensor.dtype()) {
    case DType::f32: return body.template operator()<float>();
    case DType::f64: return body.template operator()<double>();
    default: break;
  }
  fail(op, ": expected a float32 or float64 tensor, got ", describe(tensor));
}

}  // namespace kiln::ops
