// The core may not see the model families above it.
#include "kiln/models/registry.h"
