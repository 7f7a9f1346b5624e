#pragma once
// Helpers every op uses: argument checks with clear messages, and dispatch on dtype and device.
#include <initializer_list>
#include <string_view>

#include "kiln/tensor.h"

namespace kiln::ops {

// Throws unless `tensor` is defined and has `rank` dimensions.
void check_rank(std::string_view op, std::string_view name, const Tensor& tensor, std::int64_t rank);
// Throws unless all defined tensors share the first one's device and dtype.
void check_same_device_dtype(std::string_view op, std::initializer_list<const Tensor*> tensors);
// Throws unless the tensor is on the CPU (ops whose CUDA kernels are not built yet).
void require_cpu(std::string_view op, const Tensor& tensor);

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
