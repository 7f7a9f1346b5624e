#pragma once
// Reductions of a contiguous array to one value.
#include <cstdint>

namespace kiln::kernels::cpu {

// Sum accumulated in double in per-thread partials, so the result does not drift with n.
template <class T> T sum(const T* x, std::int64_t n);

}  // namespace kiln::kernels::cpu
