#pragma once
// KILN_HOST_DEVICE marks an inline function that nvcc compiles for both the host and the GPU; the host compiler (CPU
// builds, the SIMT emulation build) sees a plain inline function.
#if defined(__CUDACC__)
#define KILN_HOST_DEVICE __host__ __device__
#else
#define KILN_HOST_DEVICE
#endif
