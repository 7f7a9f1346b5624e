#pragma once
// The per-device state of the library paths (cuDNN, cuBLAS): a stream, the two library handles and a workspace.
// Only KILN_CUDA builds have it (kernels/*_cudnn.cu and *_cublas.cu use it); the handwritten kernels need none.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>
#include <mutex>
#include <string_view>

namespace kiln::cuda {

class Context {
 public:
  // The context of cuda:device_index, created on its first use, with that device made current. Contexts live as long
  // as the process (tensors and their pending work may outlive static destruction).
  static Context& get(int device_index);

  int device_index() const { return device_index_; }
  // A blocking stream: ordered with the handwritten kernels, which run on the legacy default stream.
  cudaStream_t stream() const { return stream_; }
  // Created on first use (loading cuDNN takes a while), bound to stream().
  cudnnHandle_t cudnn();
  cublasHandle_t cublas();

  // Device memory of at least `bytes` from the caching allocator, valid until the next workspace() call on this
  // context. It grows to the largest request and no further; a request over workspace_limit is an error naming op.
  void* workspace(std::size_t bytes, std::string_view op);
  static constexpr std::size_t workspace_limit = std::size_t(256) << 20;

  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

 private:
  explicit Context(int device_index);

  int device_index_;
  cudaStream_t stream_ = nullptr;
  std::once_flag cudnn_once_, cublas_once_;
  cudnnHandle_t cudnn_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  void* workspace_ = nullptr;
  std::size_t workspace_bytes_ = 0;
};

}  // namespace kiln::cuda
