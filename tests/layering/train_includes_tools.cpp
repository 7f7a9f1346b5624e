// The library may not see the tools on top of it.
#include "tools/cli.h"
