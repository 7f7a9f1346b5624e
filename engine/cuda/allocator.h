#pragma once
// The caching allocator behind every CUDA tensor: freed blocks go to per-device free lists keyed by size class, so a
// training loop that repeats its shapes stops calling cudaMalloc after the first step.
#include <cstddef>

#include "kiln/device.h"

namespace kiln::cuda {

void* cached_allocate(std::size_t bytes, int device_index);
void cached_release(void* pointer, int device_index) noexcept;

// The size class a request is served from: multiples of 512 bytes up to 1 MiB, then steps of a quarter power of two
// (so at most 25% of a block is slack).
std::size_t size_class(std::size_t bytes);

}  // namespace kiln::cuda
