#pragma once
// Multi-tensor passes: one CUDA launch (or one parallel_for on the CPU) over many tensors of different sizes. The
// elements of the tensors in a table are cut into chunks of chunk_elements, numbered across the whole table; a CUDA
// block or a CPU task takes whole chunks and finds the tensor of each by a binary search on the entries' first chunk.
// An entry is any struct with `std::int64_t n` (its element count) and `std::int64_t first_chunk`.
#include <cstdint>
#include <span>

#include "kernels/host_device.h"

namespace kiln::kernels {

constexpr std::int64_t chunk_elements = std::int64_t{1} << 14;

// Numbers the chunks: sets each entry's first_chunk, in table order, and returns the number of chunks in all.
template <class Entry>
std::int64_t assign_chunks(std::span<Entry> entries) {
  std::int64_t chunks = 0;
  for (Entry& entry : entries) {
    entry.first_chunk = chunks;
    chunks += (entry.n + chunk_elements - 1) / chunk_elements;
  }
  return chunks;
}

// Chunk `chunk` of a numbered table: the entry it belongs to and its elements [begin, end) in that entry.
struct ChunkRange {
  std::int64_t entry, begin, end;
};

template <class Entry>
KILN_HOST_DEVICE inline ChunkRange locate_chunk(const Entry* entries, std::int64_t count, std::int64_t chunk) {
  // The last entry starting at or before the chunk (an empty entry shares its first chunk with the next one).
  std::int64_t low = 0, high = count - 1;
  while (low < high) {
    const std::int64_t middle = (low + high + 1) / 2;
    if (entries[middle].first_chunk <= chunk) {
      low = middle;
    } else {
      high = middle - 1;
    }
  }
  const std::int64_t begin = (chunk - entries[low].first_chunk) * chunk_elements;
  const std::int64_t end = begin + chunk_elements < entries[low].n ? begin + chunk_elements : entries[low].n;
  return {low, begin, end};
}

}  // namespace kiln::kernels
