#pragma once
// A recycling allocator for the small objects every op makes (tensor handles' shared state, autograd nodes, their
// edge lists and backward closures, per-call kernel tables), so that a training step in its steady state takes no
// memory from the system: freed blocks go to a free list per size class and serve the next request of that size.
// Blocks above `pool_block_limit` bytes, and every block under AddressSanitizer (which must see each allocation),
// go straight to operator new.
#include <cstddef>
#include <memory>
#include <new>
#include <vector>

namespace kiln {

namespace detail {
inline constexpr std::size_t pool_block_limit = 4096;
void* pool_allocate(std::size_t bytes);
void pool_release(void* block, std::size_t bytes) noexcept;
}  // namespace detail

template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() noexcept = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}  // NOLINT: rebinding, as std::allocator

  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= alignof(std::max_align_t), "PoolAllocator serves fundamental alignments only");
    if (n > max_size()) throw std::bad_array_new_length();
    return static_cast<T*>(detail::pool_allocate(n * sizeof(T)));
  }
  void deallocate(T* block, std::size_t n) noexcept { detail::pool_release(block, n * sizeof(T)); }
  static constexpr std::size_t max_size() noexcept { return static_cast<std::size_t>(-1) / sizeof(T); }

  template <class U>
  bool operator==(const PoolAllocator<U>&) const noexcept {
    return true;
  }
};

// A std::vector whose buffer comes from the pool: for the short lists made per op call.
template <class T>
using PoolVector = std::vector<T, PoolAllocator<T>>;

// std::make_shared through the pool (object and reference counts in one pooled block).
template <class T, class... Args>
std::shared_ptr<T> make_pooled(Args&&... args) {
  return std::allocate_shared<T>(PoolAllocator<T>{}, std::forward<Args>(args)...);
}

}  // namespace kiln
