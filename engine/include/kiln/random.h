#pragma once
// Seeded random numbers from a counter-based generator (Philox4x32-10): the value for element i of a draw depends
// only on (seed, offset + i), so results do not depend on thread count or CUDA launch shape, and a checkpoint can
// store the whole state as two integers.
#include <cstdint>

namespace kiln {

struct GeneratorState {
  std::uint64_t seed = 0;
  std::uint64_t offset = 0;
};

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0) : state_{seed, 0} {}

  std::uint64_t seed() const { return state_.seed; }
  GeneratorState state() const { return state_; }
  void set_state(GeneratorState state) { state_ = state; }

  // Reserves `count` counters for one draw and returns the first; the draw then reads counters first..first+count-1.
  std::uint64_t reserve(std::uint64_t count) {
    const std::uint64_t first = state_.offset;
    state_.offset += count;
    return first;
  }

  // Convenience scalar draws (each consumes one counter).
  double uniform();              // [0, 1)
  std::uint64_t below(std::uint64_t bound);  // uniform integer in [0, bound)

 private:
  GeneratorState state_;
};

// The process-wide default generator used when a caller passes none.
Generator& default_generator();

}  // namespace kiln
