// The CUDA runtime glue: device discovery, raw memory, copies and fills, each failure naming the call, file and line.
// Built by nvcc for real GPUs and, in KILN_CUDA_EMULATION builds, by the host compiler over the SIMT emulator.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "base/cuda/check.h"
#include "base/cuda/index_check.h"
#include "base/cuda/runtime.h"
#include "base/op_scope.h"
#include "kernels/simt/cuda_compat.h"
#include "kiln/error.h"

#if defined(__CUDACC__)
#include <cublas_v2.h>
#include <cudnn.h>
#endif

namespace kiln {
namespace {

struct Discovery {
  int count = 0;
  std::string line;
};

std::string version_text(int packed) {
  return std::to_string(packed / 1000) + "." + std::to_string((packed % 1000) / 10);
}

const Discovery& discover() {
  static const Discovery discovery = [] {
    Discovery result;
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess || count == 0) {
      cudaGetLastError();  // clear the error so later calls do not report it
      result.line = std::string("CUDA: no usable GPU (") +
                    (status != cudaSuccess ? cudaGetErrorString(status) : "no device found") + "); using the CPU";
      return result;
    }
    result.count = count;
    cudaDeviceProp properties{};
    int driver = 0, runtime = 0;
    KILN_CUDA_CHECK(cudaGetDeviceProperties(&properties, 0));
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    std::ostringstream line;
    line << "CUDA: " << count << " device(s); cuda:0 " << properties.name << ", compute capability "
         << properties.major << "." << properties.minor << ", " << (properties.totalGlobalMem >> 20) << " MiB, driver "
         << version_text(driver) << ", runtime " << version_text(runtime);
#if defined(__CUDACC__)
    line << ", cuDNN " << cudnnGetVersion();
#else
    line << " (SIMT emulation on the CPU: kernels are checked, not timed)";
#endif
    result.line = line.str();
    return result;
  }();
  return discovery;
}

std::atomic<std::uint64_t> device_to_host_copies{0};

}  // namespace

int cuda_device_count() { return discover().count; }
std::string cuda_status_line() { return discover().line; }
std::uint64_t cuda_device_to_host_copies() { return device_to_host_copies.load(std::memory_order_relaxed); }

namespace cuda {
namespace {

void select(int device_index) {
  KILN_CHECK(device_index >= 0 && device_index < cuda_device_count(), "cuda:", device_index,
             " is not available: ", cuda_status_line());
  KILN_CUDA_CHECK(cudaSetDevice(device_index));
}

template <class Word>
__global__ void fill_kernel(Word* out, std::size_t count, Word bits) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    out[i] = bits;
  }
}

template <class Word>
void fill_words(void* pointer, std::size_t count, Word bits, int device_index) {
  if (count == 0) return;
  select(device_index);
  const std::size_t blocks = (count + 255) / 256;
  KILN_LAUNCH(fill_kernel<Word>, dim3(static_cast<unsigned>(blocks < 4096 ? blocks : 4096)), dim3(256), 0, nullptr,
              static_cast<Word*>(pointer), count, bits);
}

// The failure records of index_check.h, one per device index, made on first use.
struct IndexCheckRecords {
  std::mutex mutex;
  std::vector<IndexCheckFailure*> host, device;  // the same record as the host and the device address it
};

IndexCheckRecords& index_check_records() {
  static auto* records = new IndexCheckRecords;  // never destroyed, so that its records stay reachable at exit
  return *records;
}

// Throws the failure reported on the device, if any; called once the device's earlier work has finished.
void throw_index_check_failure(int device_index) {
  IndexCheckRecords& records = index_check_records();
  IndexCheckFailure failure;
  {
    const std::lock_guard lock(records.mutex);
    const auto index = static_cast<std::size_t>(device_index);
    if (index >= records.host.size() || records.host[index] == nullptr || records.host[index]->failed == 0) return;
    failure = *records.host[index];
    records.host[index]->failed = 0;
  }
  fail(index_check_message(failure.check, failure.position, failure.value), " (found on cuda:", device_index,
       " by a kernel queued before this read from the device)");
}

}  // namespace

IndexCheckFailure* index_check_record(int device_index) {
  IndexCheckRecords& records = index_check_records();
  const std::lock_guard lock(records.mutex);
  const auto index = static_cast<std::size_t>(device_index);
  if (index < records.device.size() && records.device[index] != nullptr) return records.device[index];
  select(device_index);
  if (records.host.size() <= index) {
    records.host.resize(index + 1, nullptr);
    records.device.resize(index + 1, nullptr);
  }
#if defined(__CUDACC__)
  // Mapped page-locked memory: kernels write it directly and the host reads it after any synchronisation.
  void* host = nullptr;
  void* device = nullptr;
  KILN_CUDA_CHECK(cudaHostAlloc(&host, sizeof(IndexCheckFailure), cudaHostAllocMapped));
  KILN_CUDA_CHECK(cudaHostGetDevicePointer(&device, host, 0));
  records.host[index] = new (host) IndexCheckFailure{};
  records.device[index] = static_cast<IndexCheckFailure*>(device);
#else
  records.host[index] = records.device[index] = new IndexCheckFailure{};  // the emulated device writes host memory
#endif
  return records.device[index];
}

void* allocate(std::size_t bytes, int device_index) {
  select(device_index);
  void* pointer = nullptr;
  const cudaError_t status = cudaMalloc(&pointer, bytes);
  if (status != cudaSuccess) {
    cudaGetLastError();
    std::size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    const std::string op = OpScope::current();
    fail("out of memory on cuda:", device_index, op.empty() ? " outside any op" : " in " + op, ": requested ", bytes,
         " bytes, ", free_bytes, " free of ", total_bytes, " (", cudaGetErrorString(status), ")");
  }
  return pointer;
}

void release(void* pointer, int device_index) noexcept {
  if (pointer == nullptr) return;
  cudaSetDevice(device_index);
  cudaFree(pointer);
}

void* allocate_pinned(std::size_t bytes) {
#if defined(__CUDACC__)
  void* pointer = nullptr;
  const cudaError_t status = cudaHostAlloc(&pointer, bytes > 0 ? bytes : 1, cudaHostAllocDefault);
  if (status != cudaSuccess) {
    cudaGetLastError();
    fail("out of pinned host memory: requested ", bytes, " bytes (", cudaGetErrorString(status), ")");
  }
  return pointer;
#else
  // The emulated device reads host memory anyway: plain aligned memory stands in for page-locked memory.
  void* pointer = std::aligned_alloc(256, bytes > 0 ? (bytes + 255) / 256 * 256 : 256);
  KILN_CHECK(pointer != nullptr, "out of host memory: requested ", bytes, " bytes");
  return pointer;
#endif
}

void release_pinned(void* pointer) noexcept {
#if defined(__CUDACC__)
  if (pointer != nullptr) cudaFreeHost(pointer);
#else
  std::free(pointer);
#endif
}

void copy(void* destination, Device destination_device, const void* source, Device source_device,
          std::size_t bytes) {
  if (bytes == 0) return;
  select(destination_device.is_cuda() ? destination_device.index : source_device.index);
  const cudaMemcpyKind kind = destination_device.is_cuda()
                                  ? (source_device.is_cuda() ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                  : (source_device.is_cuda() ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  KILN_CUDA_CHECK(cudaMemcpy(destination, source, bytes, kind));
  if (kind == cudaMemcpyDeviceToHost) {
    device_to_host_copies.fetch_add(1, std::memory_order_relaxed);
    throw_index_check_failure(source_device.index);
  }
}

void fill32(void* pointer, std::size_t count, unsigned bits, int device_index) {
  fill_words<std::uint32_t>(pointer, count, bits, device_index);
}

void fill64(void* pointer, std::size_t count, unsigned long long bits, int device_index) {
  fill_words<unsigned long long>(pointer, count, bits, device_index);
}

void synchronize(int device_index) {
  select(device_index);
  KILN_CUDA_CHECK(cudaDeviceSynchronize());
  throw_index_check_failure(device_index);
}

std::string build_versions() {
#if defined(__CUDACC__)
  std::ostringstream text;
  text << "CUDA " << version_text(CUDART_VERSION) << ", cuDNN " << CUDNN_MAJOR << "." << CUDNN_MINOR << "."
       << CUDNN_PATCHLEVEL << ", cuBLAS " << CUBLAS_VER_MAJOR << "." << CUBLAS_VER_MINOR;
  return text.str();
#else
  return "CUDA kernels on the SIMT emulator (CPU)";
#endif
}

}  // namespace cuda
}  // namespace kiln
