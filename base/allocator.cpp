#include "base/allocator.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "base/cuda/runtime.h"
#include "kiln/error.h"

namespace kiln {
namespace {

// Where a pool's fresh blocks come from and go back to.
struct Backend {
  void* (*allocate)(std::size_t bytes, int device_index);
  void (*release)(void* block, int device_index) noexcept;
};

constexpr std::size_t host_alignment = 64;  // a cache line, and enough for any SIMD load

void* host_allocate(std::size_t bytes, int) {
  const std::size_t rounded = std::max<std::size_t>(host_alignment, (bytes + host_alignment - 1) / host_alignment * host_alignment);
  void* block = std::aligned_alloc(host_alignment, rounded);
  KILN_CHECK(block != nullptr, "out of host memory: requested ", bytes, " bytes");
  return block;
}
void host_release(void* block, int) noexcept { std::free(block); }

struct DevicePool {
  using LiveBlocks = std::unordered_map<void*, std::size_t>;
  std::map<std::size_t, std::vector<void*>> free_blocks;  // size class -> cached blocks
  LiveBlocks live;                                        // block -> size class, for blocks handed out
  // Map nodes of released blocks, reused for the next blocks handed out: a steady state inserts without allocating.
  std::vector<LiveBlocks::node_type> spare_nodes;
  MemoryStats stats;

  void add_live(void* block, std::size_t block_size) {
    if (spare_nodes.empty()) {
      live.emplace(block, block_size);
      return;
    }
    LiveBlocks::node_type node = std::move(spare_nodes.back());
    spare_nodes.pop_back();
    node.key() = block;
    node.mapped() = block_size;
    live.insert(std::move(node));
  }
};

class CachingAllocator {
 public:
  explicit CachingAllocator(Backend backend) : backend_(backend) {}

  void* allocate(std::size_t bytes, int device_index) {
    const std::size_t block_size = size_class(bytes);
    std::lock_guard lock(mutex_);
    DevicePool& pool = pools_[device_index];
    void* block = nullptr;
    if (auto found = pool.free_blocks.find(block_size); found != pool.free_blocks.end() && !found->second.empty()) {
      block = found->second.back();
      found->second.pop_back();
      pool.stats.cached_bytes -= block_size;
    } else {
      block = allocate_fresh(pool, block_size, device_index);
    }
    pool.add_live(block, block_size);
    pool.stats.in_use_bytes += block_size;
    pool.stats.peak_bytes = std::max(pool.stats.peak_bytes, pool.stats.in_use_bytes);
    return block;
  }

  void release(void* block, int device_index) noexcept {
    std::lock_guard lock(mutex_);
    DevicePool& pool = pools_[device_index];
    const auto found = pool.live.find(block);
    if (found == pool.live.end()) return;  // not ours: never happens for tensor storage
    const std::size_t block_size = found->second;
    pool.spare_nodes.push_back(pool.live.extract(found));
    pool.stats.in_use_bytes -= block_size;
    pool.stats.cached_bytes += block_size;
    pool.free_blocks[block_size].push_back(block);
  }

  void empty_cache(int device_index) {
    std::lock_guard lock(mutex_);
    empty_cache_locked(pools_[device_index], device_index);
  }

  MemoryStats stats(int device_index) {
    std::lock_guard lock(mutex_);
    return pools_[device_index].stats;
  }

 private:
  void* allocate_fresh(DevicePool& pool, std::size_t block_size, int device_index) {
    try {
      ++pool.stats.device_allocations;
      return backend_.allocate(block_size, device_index);
    } catch (const Error&) {
      // Cached blocks of other sizes may be what is missing: give them back and try once more.
      empty_cache_locked(pool, device_index);
      return backend_.allocate(block_size, device_index);
    }
  }

  void empty_cache_locked(DevicePool& pool, int device_index) {
    for (auto& [block_size, blocks] : pool.free_blocks) {
      for (void* block : blocks) backend_.release(block, device_index);
      pool.stats.cached_bytes -= block_size * blocks.size();
      blocks.clear();
    }
  }

  Backend backend_;
  std::mutex mutex_;
  std::map<int, DevicePool> pools_;
};

// Never destroyed: tensors may outlive static teardown.
CachingAllocator& device_allocator() {
  static CachingAllocator* instance = new CachingAllocator({cuda::allocate, cuda::release});
  return *instance;
}
CachingAllocator& host_allocator() {
  static CachingAllocator* instance = new CachingAllocator({host_allocate, host_release});
  return *instance;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool cache_host_blocks = false;
#else
constexpr bool cache_host_blocks = true;
#endif

}  // namespace

std::size_t size_class(std::size_t bytes) {
  constexpr std::size_t small_step = 512, small_limit = std::size_t(1) << 20;
  if (bytes <= small_limit) return std::max<std::size_t>(small_step, (bytes + small_step - 1) / small_step * small_step);
  const std::size_t power = std::bit_floor(bytes);
  const std::size_t step = power / 4;
  return (bytes + step - 1) / step * step;
}

void* cached_allocate(std::size_t bytes, Device device) {
  if (device.is_cuda()) return device_allocator().allocate(bytes, device.index);
  return cache_host_blocks ? host_allocator().allocate(bytes, 0) : host_allocate(bytes, 0);
}

void cached_release(void* pointer, Device device) noexcept {
  if (device.is_cuda()) device_allocator().release(pointer, device.index);
  else if (cache_host_blocks) host_allocator().release(pointer, 0);
  else host_release(pointer, 0);
}

MemoryStats cuda_memory_stats(int device_index) { return device_allocator().stats(device_index); }
void cuda_empty_cache(int device_index) { device_allocator().empty_cache(device_index); }
MemoryStats host_memory_stats() { return host_allocator().stats(0); }
void host_empty_cache() { host_allocator().empty_cache(0); }

}  // namespace kiln
