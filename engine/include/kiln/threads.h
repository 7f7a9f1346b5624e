#pragma once
// The CPU backend's threads: kiln's own pool runs the CPU kernels (OpenBLAS runs single-threaded per call inside it).
#include <string>

namespace kiln {

// KILN_NUM_THREADS, else the core count, until set_num_threads changes it.
int num_threads();
void set_num_threads(int threads);  // 1 = serial; takes effect for the next kernel

// One line describing the CPU backend: its threads and OpenBLAS's kernels.
std::string cpu_status_line();

}  // namespace kiln
