#pragma once
// A small fixed thread pool for CPU kernels. parallel_for splits [begin, end) into contiguous chunks of at least
// `grain` items; nested calls run serially in the calling thread. Threads: KILN_NUM_THREADS or the core count.
#include <cstdint>
#include "kiln/function_ref.h"

namespace kiln::kernels {

int num_threads();
void set_num_threads(int threads);  // 1 = serial; takes effect for the next parallel_for
bool in_parallel_region();

void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain,
                  FunctionRef<void(std::int64_t, std::int64_t)> body);

}  // namespace kiln::kernels
