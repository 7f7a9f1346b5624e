#pragma once
// Where a tensor lives: the CPU or one CUDA device, always with an explicit index.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kiln {

enum class DeviceType : std::uint8_t { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static constexpr Device cpu() { return {DeviceType::cpu, 0}; }
  static constexpr Device cuda(int index = 0) { return {DeviceType::cuda, index}; }
  constexpr bool is_cpu() const { return type == DeviceType::cpu; }
  constexpr bool is_cuda() const { return type == DeviceType::cuda; }
  constexpr bool operator==(const Device&) const = default;

  std::string str() const;                     // "cpu", "cuda:1"
  static Device parse(std::string_view text);  // "cpu", "cuda", "cuda:1"; throws kiln::Error otherwise
};

// Number of usable CUDA devices: 0 when kiln was built without CUDA or no GPU/driver is present.
int cuda_device_count();
// One line describing the CUDA situation: the GPU, compute capability, driver, CUDA and cuDNN versions, or why none.
std::string cuda_status_line();
// The caching allocator's figures for one device (bytes counted in allocator blocks).
struct MemoryStats {
  std::size_t in_use_bytes = 0;  // held by live tensors
  std::size_t peak_bytes = 0;    // the most ever in use at once
  std::size_t cached_bytes = 0;  // freed by tensors, kept for reuse
  std::size_t device_allocations = 0;  // cudaMalloc (or, on the CPU, aligned_alloc) calls so far
};
MemoryStats cuda_memory_stats(int device_index = 0);
// Returns cached blocks to the driver (they are otherwise kept for reuse).
void cuda_empty_cache(int device_index = 0);
// Copies from any CUDA device to host memory so far (Tensor::cpu(), item(), to_vector(), ...), for tests that bound
// the reads a training step makes; each is a synchronisation with the device.
std::uint64_t cuda_device_to_host_copies();
// The same for CPU tensors' host memory (not cached in AddressSanitizer builds, so that it can catch a use after free).
MemoryStats host_memory_stats();
void host_empty_cache();

// "auto" picks cuda:0 when a GPU is usable, else the CPU.
Device best_device();

}  // namespace kiln
