#include "kiln/version.h"

#include "base/cuda/runtime.h"

namespace kiln {

std::string version_string() { return "kiln " + version() + " (" + cuda::build_versions() + ")"; }

std::string version() { return KILN_VERSION; }

bool built_with_cuda() {
#ifdef KILN_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

}  // namespace kiln
