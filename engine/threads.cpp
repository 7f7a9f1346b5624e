#include "kiln/threads.h"

#include "kernels/gemm.h"
#include "kernels/parallel.h"

namespace kiln {

int num_threads() { return kernels::num_threads(); }

void set_num_threads(int threads) { kernels::set_num_threads(threads); }

std::string cpu_status_line() {
  return "CPU: " + std::to_string(kernels::num_threads()) + " threads, OpenBLAS " + kernels::cpu::blas_kernels() +
         " kernels";
}

}  // namespace kiln
