// Main of the CUDA test binary. With real CUDA and no usable GPU every test is skipped, with the reason, through
// the exit code CTest maps to "skipped" (kiln_cuda_skip_code in tests/cuda/CMakeLists.txt); the emulation build always
// has its emulated device, so nothing can be skipped there.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <iostream>

#include "kiln/device.h"

int main(int argc, char** argv) {
  Catch::Session session;
  if (const int status = session.applyCommandLine(argc, argv); status != 0) return status;
  const bool listing = session.configData().listTests || session.configData().listTestNamesOnly;
  if (!listing && kiln::cuda_device_count() == 0) {
#if KILN_CUDA_EMULATED
    std::cerr << "the emulated CUDA device is missing: " << kiln::cuda_status_line() << "\n";
    return 1;
#else
    std::cout << "SKIPPED: " << kiln::cuda_status_line() << "\n";
    return KILN_CUDA_SKIP_CODE;
#endif
  }
  return session.run();
}
