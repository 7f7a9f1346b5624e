#include "tests/support/gradcheck.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>

#include "kiln/autograd.h"
#include "kiln/ops.h"

namespace kiln::testing {

Tensor random_input(const Shape& shape, std::uint64_t seed, double low, double high) {
  Generator generator(seed);
  Tensor tensor = Tensor::uniform(shape, low, high, generator, DType::f64);
  tensor.set_requires_grad(true);
  return tensor;
}

void check_gradients(const TensorFunction& f, const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  for (const Tensor& input : inputs) {
    if (input.defined() && input.requires_grad()) {
      REQUIRE(input.dtype() == DType::f64);
      REQUIRE(input.device().is_cpu());
      input.zero_grad();
    }
  }
  const Tensor probe_output = f(inputs);
  REQUIRE(probe_output.dtype() == DType::f64);
  Generator generator(987654321);
  const Tensor projection = Tensor::randn(probe_output.shape(), generator, DType::f64);
  const auto objective = [&](const std::vector<Tensor>& x) { return sum(mul(f(x), projection)); };

  objective(inputs).backward();

  std::size_t checked = 0;
  for (std::size_t which = 0; which < inputs.size(); ++which) {
    const Tensor& input = inputs[which];
    if (!input.defined() || !input.requires_grad()) continue;
    const Tensor analytic = input.grad();
    REQUIRE(analytic.defined());
    REQUIRE(analytic.shape() == input.shape());
    const std::vector<double> analytic_values = analytic.to_vector_f64();
    double* values = input.data<double>();
    NoGradGuard no_grad;
    for (std::int64_t i = 0; i < input.numel(); ++i) {
      const double saved = values[i];
      values[i] = saved + options.eps;
      const double plus = objective(inputs).item();
      values[i] = saved - options.eps;
      const double minus = objective(inputs).item();
      values[i] = saved;
      const double numeric = (plus - minus) / (2 * options.eps);
      const double expected = analytic_values[static_cast<std::size_t>(i)];
      const double tolerance = options.atol + options.rtol * std::max(std::abs(numeric), std::abs(expected));
      if (!(std::abs(numeric - expected) <= tolerance)) {
        std::ostringstream message;
        message << "input " << which << " " << shape_str(input.shape()) << " element " << i << ": analytic "
                << expected << ", numeric " << numeric;
        FAIL(message.str());
      }
      ++checked;
    }
  }
  REQUIRE(checked > 0);
}

}  // namespace kiln::testing
