// A kernel may not see the op layer above it.
#include "engine/ops/dispatch.h"
