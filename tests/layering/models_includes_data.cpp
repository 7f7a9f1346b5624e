// Models and data sit beside each other: neither sees the other.
#include "kiln/data/image.h"
