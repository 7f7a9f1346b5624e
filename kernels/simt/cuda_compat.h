#pragma once
// Included by every kiln .cu file, so that the same kernel source builds with nvcc for the GPU and with the host
// compiler over the SIMT emulator (KILN_CUDA_EMULATION), which runs it on the CPU in CI.
//   KILN_DYNAMIC_SHARED(float, buf);  // dynamic shared memory; inside a kernel or device function body
//   KILN_LAUNCH(kernel, grid, block, shared_bytes, stream, args...);  // <<<>>> plus an error check naming the kernel
// A template kernel whose arguments contain a comma is passed in parentheses: KILN_LAUNCH((k<A, B>), ...).
#if defined(__CUDACC__)

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "kernels/simt/launch_count.h"
#include "kiln/error.h"

// One byte array behind every name: `extern __shared__ T name[]` with two different T in one file (a template kernel
// instantiated twice, say) is an nvcc error, and all dynamic shared arrays start at the same address anyway.
#define KILN_DYNAMIC_SHARED(type, name)                               \
  extern __shared__ __align__(16) unsigned char kiln_dynamic_shared_[]; \
  type* name = reinterpret_cast<type*>(kiln_dynamic_shared_)

namespace kiln::simt {

template <class... Params, class... Args>
void launch(const char* kernel_name, void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes,
            cudaStream_t stream, Args&&... args) {
  ++launch_count;
  kernel<<<grid, block, shared_bytes, stream>>>(std::forward<Args>(args)...);
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) {
    fail("CUDA kernel '", kernel_name, "' failed to launch: ", cudaGetErrorString(status));
  }
}

}  // namespace kiln::simt

#else

#include "kernels/simt/emulator.h"

#define KILN_DYNAMIC_SHARED(type, name) type* name = static_cast<type*>(::kiln::simt::dynamic_shared_memory())

#endif

#define KILN_LAUNCH(kernel, grid, block, shared_bytes, stream, ...) \
  ::kiln::simt::launch(#kernel, kernel, grid, block, shared_bytes, stream __VA_OPT__(, ) __VA_ARGS__)
