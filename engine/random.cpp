#include "kiln/random.h"

#include "kernels/philox.h"

namespace kiln {

double Generator::uniform() { return kernels::philox_uniform_f64(state_.seed, reserve(1)); }

std::uint64_t Generator::below(std::uint64_t bound) {
  if (bound <= 1) return 0;
  return static_cast<std::uint64_t>(uniform() * static_cast<double>(bound)) % bound;
}

Generator& default_generator() {
  static Generator generator(0);
  return generator;
}

}  // namespace kiln
