#pragma once
// The CUDA runtime calls the engine needs, behind plain functions so that the rest of the engine compiles without
// CUDA headers. runtime.cu implements them with cudart (or the SIMT emulator's runtime); runtime_none.cpp (CPU-only
// builds) throws kiln::Error. Memory for tensors goes through the caching allocator (allocator.h), not allocate().
#include <cstddef>
#include <string>

#include "kiln/device.h"

namespace kiln::cuda {

void* allocate(std::size_t bytes, int device_index);
void release(void* pointer, int device_index) noexcept;
// Page-locked host memory, which the GPU reads directly (copies from it need no staging).
void* allocate_pinned(std::size_t bytes);
void release_pinned(void* pointer) noexcept;
// Copies between any two devices (CPU or CUDA); synchronous. A copy from a CUDA device to the host then throws the
// index check failure a kernel on that device has reported since the last one thrown (index_check.h).
void copy(void* destination, Device destination_device, const void* source, Device source_device, std::size_t bytes);
// Waits for all work queued on the device, then throws a reported index check failure as copy() does.
void synchronize(int device_index);
// Sets every 32-bit word of [pointer, pointer + count) to `bits` (float fills).
void fill32(void* pointer, std::size_t count, unsigned bits, int device_index);
void fill64(void* pointer, std::size_t count, unsigned long long bits, int device_index);
// Version strings of the libraries kiln was built with, or "CPU only".
std::string build_versions();

}  // namespace kiln::cuda
