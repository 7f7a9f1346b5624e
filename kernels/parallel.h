#pragma once
// A small fixed thread pool for CPU kernels. parallel_for splits [begin, end) into contiguous chunks of at least
// `grain` items; nested calls run serially in the calling thread. Threads: KILN_NUM_THREADS or the core count.
#include <cstdint>
#include "kiln/function_ref.h"

namespace kiln::kernels {

int num_threads();
void set_num_threads(int threads);  // 1 = serial; takes effect for the next parallel_for
bool in_parallel_region();

// Kernel work runs with subnormal floats flushed to zero (x86: FTZ and DAZ, in every thread of a parallel_for, the
// caller's own mode given back when it returns; elsewhere a no-op). Weight decay drives unused weights towards zero,
// and arithmetic on subnormals is tens of times slower: after 12 epochs fmnist-small's fc1 held 4,075 subnormal
// weights and its epochs ran a quarter slower. On unless KILN_FLUSH_DENORMALS=0.
void set_flush_denormals(bool flush);
bool flush_denormals();

void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain,
                  FunctionRef<void(std::int64_t, std::int64_t)> body);

}  // namespace kiln::kernels
