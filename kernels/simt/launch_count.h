#pragma once
// The number of kernel launches made through KILN_LAUNCH in this process, on a GPU or on the emulator: tests count
// what one operation launches with it (the optimiser's step makes one launch per device).
#include <atomic>
#include <cstdint>

namespace kiln::simt {

inline std::atomic<std::uint64_t> launch_count{0};

}  // namespace kiln::simt
