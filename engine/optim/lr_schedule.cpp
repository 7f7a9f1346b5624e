#include "kiln/optim/lr_schedule.h"

#include <cmath>

#include "kiln/error.h"

namespace kiln::optim {

double ExponentialDecay::at(std::int64_t step) const {
  KILN_CHECK(decay_steps > 0, "ExponentialDecay: decay_steps must be positive, got ", decay_steps);
  KILN_CHECK(step >= 0, "ExponentialDecay: negative step ", step);
  double exponent = static_cast<double>(step) / decay_steps;
  if (staircase) exponent = std::floor(exponent);
  return base * std::pow(rate, exponent);
}

}  // namespace kiln::optim
