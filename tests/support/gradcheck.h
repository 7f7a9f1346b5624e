#pragma once
// The one gradient checker every op must pass: compares autograd's gradients with central finite differences in
// double precision.
#include <functional>
#include <string>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::testing {

struct GradcheckOptions {
  double eps = 1e-6;    // finite-difference step
  double atol = 1e-6;   // |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)
  double rtol = 1e-5;
};

using TensorFunction = std::function<Tensor(const std::vector<Tensor>&)>;

// f maps the inputs to one output of any shape. Every float64 CPU input with requires_grad() is checked, element by
// element, on the scalar sum(f(x) * r) for a fixed random r (so every output element matters). Fails the current
// Catch2 test with the input, element, analytic and numeric values on a mismatch.
void check_gradients(const TensorFunction& f, const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

// A float64 CPU tensor of the shape with uniform values in [low, high), marked requires_grad.
Tensor random_input(const Shape& shape, std::uint64_t seed, double low = -1.0, double high = 1.0);

}  // namespace kiln::testing
