#include "engine/ops/dispatch.h"

namespace kiln::ops {

void check_rank(std::string_view op, std::string_view name, const Tensor& tensor, std::int64_t rank) {
  KILN_CHECK(tensor.defined(), op, ": ", name, " is undefined");
  KILN_CHECK(tensor.dim() == rank, op, ": ", name, " must have ", rank, " dimensions, got shape ",
             shape_str(tensor.shape()));
}

void check_same_device_dtype(std::string_view op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* tensor : tensors) {
    if (!tensor->defined()) continue;
    if (first == nullptr) {
      first = tensor;
      continue;
    }
    KILN_CHECK(tensor->device() == first->device() && tensor->dtype() == first->dtype(), op,
               ": tensors must share device and dtype, got ", describe(*first), " and ", describe(*tensor));
  }
}

void require_cpu(std::string_view op, const Tensor& tensor) {
  KILN_CHECK(tensor.device().is_cpu(), op, ": no CUDA kernel for this op in this build (input on ",
             tensor.device().str(), "); move the tensors to the CPU");
}

bool on_cuda(std::string_view op, const Tensor& tensor) {
  if (!tensor.device().is_cuda()) return false;
#if KILN_HAVE_CUDA_KERNELS
  KILN_CHECK(tensor.dtype() == DType::f32, op, ": CUDA kernels take float32, got ", describe(tensor));
  return true;
#else
  fail(op, ": this kiln was built without CUDA kernels (input on ", tensor.device().str(), ")");
#endif
}

}  // namespace kiln::ops
