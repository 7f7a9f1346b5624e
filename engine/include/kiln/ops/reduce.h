#pragma once
// Reductions of a whole tensor to a scalar (shape []).
#include "kiln/tensor.h"

namespace kiln {

Tensor sum(const Tensor& x);
Tensor mean(const Tensor& x);

}  // namespace kiln
