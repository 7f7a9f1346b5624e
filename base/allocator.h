#pragma once
// The caching allocator behind every tensor's storage: freed blocks go to per-device free lists keyed by size class,
// so a training loop that repeats its shapes stops calling cudaMalloc (on a GPU) or malloc/mmap (on the CPU, where
// large blocks would otherwise be mapped, faulted in and unmapped again every step) after its first step.
// Statistics and emptying: kiln/device.h.
#include <cstddef>

#include "kiln/device.h"

namespace kiln {

void* cached_allocate(std::size_t bytes, Device device);
void cached_release(void* pointer, Device device) noexcept;

// The size class a request is served from: multiples of 512 bytes up to 1 MiB, then steps of a quarter power of two
// (so at most 25% of a block is slack).
std::size_t size_class(std::size_t bytes);

}  // namespace kiln
