// The CUDA runtime glue: device discovery, memory, copies and fills, all naming the failing call.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstdint>
#include <mutex>
#include <sstream>

#include "engine/cuda/runtime.h"
#include "kiln/error.h"

#define KILN_CUDA_CHECK(call)                                                                            \
  do {                                                                                                   \
    const cudaError_t status_ = (call);                                                                  \
    if (status_ != cudaSuccess) {                                                                        \
      ::kiln::fail(#call, " failed: ", cudaGetErrorString(status_), " (", __FILE__, ":", __LINE__, ")"); \
    }                                                                                                    \
  } while (0)

namespace kiln {
namespace {

struct Discovery {
  int count = 0;
  std::string line;
};

const Discovery& discover() {
  static const Discovery discovery = [] {
    Discovery result;
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      cudaGetLastError();  // clear the sticky error
      result.line = std::string("CUDA: no usable GPU (") + cudaGetErrorString(status) + "); using the CPU";
      return result;
    }
    if (count == 0) {
      result.line = "CUDA: no GPU found; using the CPU";
      return result;
    }
    result.count = count;
    cudaDeviceProp properties{};
    int driver = 0, runtime = 0;
    cudaGetDeviceProperties(&properties, 0);
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    std::ostringstream line;
    line << "CUDA: " << count << " GPU(s); cuda:0 " << properties.name << ", compute capability " << properties.major
         << "." << properties.minor << ", " << (properties.totalGlobalMem >> 20) << " MiB, driver "
         << driver / 1000 << "." << (driver % 1000) / 10 << ", runtime " << runtime / 1000 << "."
         << (runtime % 1000) / 10 << ", cuDNN " << cudnnGetVersion();
    result.line = line.str();
    return result;
  }();
  return discovery;
}

}  // namespace

int cuda_device_count() { return discover().count; }
std::string cuda_status_line() { return discover().line; }

namespace cuda {
namespace {

void select(int device_index) {
  KILN_CHECK(device_index >= 0 && device_index < cuda_device_count(), "cuda:", device_index,
             " is not available: ", cuda_status_line());
  KILN_CUDA_CHECK(cudaSetDevice(device_index));
}

__global__ void fill32_kernel(std::uint32_t* out, std::size_t count, std::uint32_t bits) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    out[i] = bits;
  }
}

__global__ void fill64_kernel(unsigned long long* out, std::size_t count, unsigned long long bits) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    out[i] = bits;
  }
}

unsigned grid_for(std::size_t count) {
  const std::size_t blocks = (count + 255) / 256;
  return static_cast<unsigned>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

}  // namespace

void* allocate(std::size_t bytes, int device_index) {
  select(device_index);
  void* pointer = nullptr;
  const cudaError_t status = cudaMalloc(&pointer, bytes);
  if (status != cudaSuccess) {
    cudaGetLastError();
    std::size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    fail("out of memory on cuda:", device_index, ": requested ", bytes, " bytes, ", free_bytes, " free of ",
         total_bytes, " (", cudaGetErrorString(status), ")");
  }
  return pointer;
}

void release(void* pointer, int device_index) noexcept {
  if (pointer == nullptr) return;
  cudaSetDevice(device_index);
  cudaFree(pointer);
}

void copy(void* destination, Device destination_device, const void* source, Device source_device,
          std::size_t bytes) {
  if (bytes == 0) return;
  cudaMemcpyKind kind = cudaMemcpyDefault;  // unified addressing tells the directions apart
  if (destination_device.is_cuda()) select(destination_device.index);
  else if (source_device.is_cuda()) select(source_device.index);
  KILN_CUDA_CHECK(cudaMemcpy(destination, source, bytes, kind));
}

void fill32(void* pointer, std::size_t count, unsigned bits, int device_index) {
  select(device_index);
  fill32_kernel<<<grid_for(count), 256>>>(static_cast<std::uint32_t*>(pointer), count, bits);
  KILN_CUDA_CHECK(cudaGetLastError());
}

void fill64(void* pointer, std::size_t count, unsigned long long bits, int device_index) {
  select(device_index);
  fill64_kernel<<<grid_for(count), 256>>>(static_cast<unsigned long long*>(pointer), count, bits);
  KILN_CUDA_CHECK(cudaGetLastError());
}

std::string build_versions() {
  std::ostringstream text;
  text << "CUDA " << CUDART_VERSION / 1000 << "." << (CUDART_VERSION % 1000) / 10 << ", cuDNN " << CUDNN_MAJOR << "."
       << CUDNN_MINOR << "." << CUDNN_PATCHLEVEL << ", cuBLAS " << CUBLAS_VER_MAJOR << "." << CUBLAS_VER_MINOR;
  return text.str();
}

}  // namespace cuda
}  // namespace kiln
