#pragma once
// Owning wrappers for the cuDNN descriptors the library paths build per call (creation is a host-side allocation).
#include <cudnn.h>

#include <cstdint>

#include "base/cuda/check.h"

namespace kiln::cuda {

template <class Handle, cudnnStatus_t (*create)(Handle*), cudnnStatus_t (*destroy)(Handle)>
class CudnnDescriptor {
 public:
  CudnnDescriptor() { KILN_CUDNN_CHECK(create(&handle_)); }
  ~CudnnDescriptor() { destroy(handle_); }
  CudnnDescriptor(const CudnnDescriptor&) = delete;
  CudnnDescriptor& operator=(const CudnnDescriptor&) = delete;
  Handle get() const { return handle_; }

 private:
  Handle handle_ = nullptr;
};

using TensorDescriptor =
    CudnnDescriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDescriptor =
    CudnnDescriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor =
    CudnnDescriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor>;

// A dense float32 NCHW tensor; the sizes must fit cuDNN's int.
inline void set_nchw(const TensorDescriptor& descriptor, std::int64_t n, std::int64_t c, std::int64_t h,
                     std::int64_t w) {
  KILN_CHECK(n * c * h * w <= INT32_MAX, "cuDNN: tensor [", n, ", ", c, ", ", h, ", ", w,
             "] has more elements than cuDNN's int indexing allows");
  KILN_CUDNN_CHECK(cudnnSetTensor4dDescriptor(descriptor.get(), CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                              static_cast<int>(n), static_cast<int>(c), static_cast<int>(h),
                                              static_cast<int>(w)));
}

}  // namespace kiln::cuda
