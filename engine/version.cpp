#include "kiln/version.h"

#include "engine/cuda/runtime.h"

namespace kiln {

std::string version_string() { return std::string("kiln ") + KILN_VERSION + " (" + cuda::build_versions() + ")"; }

}  // namespace kiln
