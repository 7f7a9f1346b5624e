#pragma once
// Inverted dropout: in training, zeroes each element with probability p and scales the rest by 1/(1-p).
#include "kiln/random.h"
#include "kiln/tensor.h"

namespace kiln {

// The mask for element i depends only on (generator seed, generator offset + i): the same on CPU and CUDA.
Tensor dropout(const Tensor& x, double p, bool training, Generator& generator);

}  // namespace kiln
