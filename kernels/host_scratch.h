#pragma once
// Working memory of one CPU kernel call (im2col columns, gathered rows, partial sums), taken from the host caching
// allocator (base/allocator.h) and given back when the call ends: a training step that repeats its shapes finds its
// blocks cached, so it neither allocates nor faults fresh pages in, and any thread may take any block.
#include <cstddef>

#include "base/allocator.h"

namespace kiln::kernels::cpu {

template <class T>
class HostScratch {
 public:
  HostScratch() = default;
  HostScratch(const HostScratch&) = delete;
  HostScratch& operator=(const HostScratch&) = delete;
  ~HostScratch() { release(); }

  // Room for at least `count` elements (uninitialised); earlier contents are not kept when it grows.
  T* reserve(std::size_t count) {
    if (count > capacity_) {
      release();
      data_ = static_cast<T*>(cached_allocate(count * sizeof(T), Device::cpu()));
      capacity_ = count;
    }
    return data_;
  }

 private:
  void release() noexcept {
    if (data_ != nullptr) cached_release(data_, Device::cpu());
    data_ = nullptr;
    capacity_ = 0;
  }

  T* data_ = nullptr;
  std::size_t capacity_ = 0;
};

}  // namespace kiln::kernels::cpu
