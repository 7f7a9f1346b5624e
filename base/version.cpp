#include "kiln/version.h"

#include "base/cuda/runtime.h"

namespace kiln {

std::string version_string() { return std::string("kiln ") + KILN_VERSION + " (" + cuda::build_versions() + ")"; }

}  // namespace kiln
