// The per-device library context: created lazily per device index, never torn down.
#include "base/cuda/context.h"

#include <map>
#include <memory>

#include "base/allocator.h"
#include "base/cuda/check.h"
#include "kiln/device.h"

namespace kiln::cuda {

Context& Context::get(int device_index) {
  KILN_CHECK(device_index >= 0 && device_index < cuda_device_count(), "cuda:", device_index,
             " is not available: ", cuda_status_line());
  static std::mutex mutex;
  static auto* contexts = new std::map<int, std::unique_ptr<Context>>();  // never destroyed, as the comment says
  std::lock_guard lock(mutex);
  std::unique_ptr<Context>& context = (*contexts)[device_index];
  if (!context) context.reset(new Context(device_index));
  KILN_CUDA_CHECK(cudaSetDevice(device_index));
  return *context;
}

Context::Context(int device_index) : device_index_(device_index) {
  KILN_CUDA_CHECK(cudaSetDevice(device_index));
  KILN_CUDA_CHECK(cudaStreamCreate(&stream_));
}

cudnnHandle_t Context::cudnn() {
  std::call_once(cudnn_once_, [this] {
    KILN_CUDNN_CHECK(cudnnCreate(&cudnn_));
    KILN_CUDNN_CHECK(cudnnSetStream(cudnn_, stream_));
  });
  return cudnn_;
}

cublasHandle_t Context::cublas() {
  std::call_once(cublas_once_, [this] {
    KILN_CUBLAS_CHECK(cublasCreate(&cublas_));
    KILN_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
  });
  return cublas_;
}

void* Context::workspace(std::size_t bytes, std::string_view op) {
  KILN_CHECK(bytes <= workspace_limit, op, ": needs a workspace of ", bytes, " bytes, over kiln's limit of ",
             workspace_limit, " bytes on cuda:", device_index_);
  if (bytes <= workspace_bytes_) return workspace_;
  const Device device = Device::cuda(device_index_);
  void* grown = nullptr;
  try {
    grown = cached_allocate(bytes, device);
  } catch (const Error& error) {
    fail(op, ": workspace: ", error.what());
  }
  // Work queued on stream() may still read the old block; the allocator hands it out again only to work that is
  // ordered after it (this stream, or the legacy default stream the handwritten kernels use).
  cached_release(workspace_, device);
  workspace_ = grown;
  workspace_bytes_ = bytes;
  return workspace_;
}

}  // namespace kiln::cuda
