#include "kiln/pool_allocator.h"

#include <array>
#include <mutex>

namespace kiln::detail {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool pooling = false;  // ASan must see every allocation to find use-after-free and leaks
#else
constexpr bool pooling = true;
#endif

constexpr std::size_t granule = alignof(std::max_align_t);  // 16 on x86-64: every block keeps this alignment
constexpr std::size_t slab_bytes = std::size_t(64) << 10;

// Size classes: every multiple of 16 up to 256 bytes, then powers of two up to the limit.
constexpr std::size_t fine_limit = 256;
constexpr std::size_t fine_classes = fine_limit / granule;
constexpr std::size_t class_count = fine_classes + 4;  // 512, 1024, 2048, 4096
static_assert(pool_block_limit == fine_limit << 4);

std::size_t class_of(std::size_t bytes) {
  if (bytes <= fine_limit) return bytes == 0 ? 0 : (bytes - 1) / granule;
  std::size_t size_class = fine_classes, size = fine_limit * 2;
  while (size < bytes) {
    size *= 2;
    ++size_class;
  }
  return size_class;
}

std::size_t class_bytes(std::size_t size_class) {
  return size_class < fine_classes ? (size_class + 1) * granule : fine_limit << (size_class - fine_classes + 1);
}

struct FreeBlock {
  FreeBlock* next;
};

// One free list per size class, refilled a slab at a time; slabs are never returned (the pool's size is the peak of
// what was live at once, like the caching allocator's).
class SizeClass {
 public:
  void* take(std::size_t block_bytes) {
    std::lock_guard lock(mutex_);
    if (free_ == nullptr) refill(block_bytes);
    FreeBlock* block = free_;
    free_ = block->next;
    return block;
  }
  void give_back(void* pointer) noexcept {
    std::lock_guard lock(mutex_);
    auto* block = static_cast<FreeBlock*>(pointer);
    block->next = free_;
    free_ = block;
  }

 private:
  void refill(std::size_t block_bytes) {
    auto* slab = static_cast<std::byte*>(::operator new(slab_bytes));
    for (std::size_t offset = 0; offset + block_bytes <= slab_bytes; offset += block_bytes) {
      auto* block = reinterpret_cast<FreeBlock*>(slab + offset);
      block->next = free_;
      free_ = block;
    }
  }

  std::mutex mutex_;
  FreeBlock* free_ = nullptr;
};

// Never destroyed: pooled objects (tensors in static caches) may be released during static teardown.
std::array<SizeClass, class_count>& size_classes() {
  static auto* classes = new std::array<SizeClass, class_count>();
  return *classes;
}

}  // namespace

void* pool_allocate(std::size_t bytes) {
  if (!pooling || bytes > pool_block_limit) return ::operator new(bytes);
  const std::size_t size_class = class_of(bytes);
  return size_classes()[size_class].take(class_bytes(size_class));
}

void pool_release(void* block, std::size_t bytes) noexcept {
  if (block == nullptr) return;
  if (!pooling || bytes > pool_block_limit) {
    ::operator delete(block);
    return;
  }
  size_classes()[class_of(bytes)].give_back(block);
}

}  // namespace kiln::detail
