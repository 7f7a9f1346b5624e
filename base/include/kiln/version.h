#pragma once
#include <string>

namespace kiln {

// "kiln 0.1.0 (CUDA 13.0, cuDNN 9.19.0, cuBLAS 13.0)" or "kiln 0.1.0 (CPU only)".
std::string version_string();

// "0.1.0": the library's version, which may differ from the headers' a program was compiled with.
std::string version();

// Whether this library has the CUDA backend (nvcc, cuDNN, cuBLAS). The headers are the same either way: a program
// asks here, and cuda_device_count() (kiln/device.h) says whether a GPU is there to use.
bool built_with_cuda();

}  // namespace kiln
