#pragma once
#include <string>

namespace kiln {

// "kiln 0.1.0 (CUDA 13.0, cuDNN 9.19.0, cuBLAS 13.0)" or "kiln 0.1.0 (CPU only)".
std::string version_string();

}  // namespace kiln
