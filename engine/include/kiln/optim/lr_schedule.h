#pragma once
// Learning-rate schedules as functions of the optimiser step.
#include <cstdint>

namespace kiln::optim {

// lr(step) = base * rate^(step / decay_steps); with staircase the exponent is floored. rate 1 = constant.
struct ExponentialDecay {
  double base = 1e-3;
  double rate = 1.0;
  double decay_steps = 1.0;
  bool staircase = false;
  double at(std::int64_t step) const;
};

}  // namespace kiln::optim
