// Data may not see the training loop above it.
#include "kiln/train/trainer.h"
