#pragma once
// The host tables of an optimiser's multi-tensor update (kernels/optimizer.h), one per dtype, kept from step to step
// so that filling them allocates nothing after the first step.
#include <type_traits>
#include <vector>

namespace kiln::optim {

template <template <class> class Slot>
class SlotTables {
 public:
  // The table for T, emptied (its capacity kept).
  template <class T>
  std::vector<Slot<T>>& cleared() {
    std::vector<Slot<T>>& table = select<T>();
    table.clear();
    return table;
  }

 private:
  template <class T>
  std::vector<Slot<T>>& select() {
    if constexpr (std::is_same_v<T, float>) {
      return f32_;
    } else {
      static_assert(std::is_same_v<T, double>, "optimisers update float and double parameters");
      return f64_;
    }
  }

  std::vector<Slot<float>> f32_;
  std::vector<Slot<double>> f64_;
};

}  // namespace kiln::optim
