// CPU optimiser updates: one parallel pass over the chunks of all the parameters, in double arithmetic per element.
#include "kernels/optimizer.h"

#include "kernels/multi_tensor.h"
#include "kernels/optimizer_math.h"
#include "kernels/parallel.h"

namespace kiln::kernels::cpu {
namespace {

template <class Slot, class Scalars>
void update_all(std::span<Slot> slots, const Scalars& scalars) {
  const std::int64_t chunks = assign_chunks(slots);
  const auto count = static_cast<std::int64_t>(slots.size());
  parallel_for(0, chunks, 1, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t chunk = first; chunk < last; ++chunk) {
      const ChunkRange range = locate_chunk(slots.data(), count, chunk);
      const Slot& slot = slots[static_cast<std::size_t>(range.entry)];
      for (std::int64_t i = range.begin; i < range.end; ++i) update_element(slot, i, slot.l2, scalars);
    }
  });
}

}  // namespace

template <class T>
void adam_update(std::span<AdamSlot<T>> slots, const AdamStep& step) {
  update_all(slots, AdamScalars<double>(step));
}

template <class T>
void sgd_update(std::span<SgdSlot<T>> slots, const SgdStep& step) {
  update_all(slots, SgdScalars<double>(step));
}

template void adam_update<float>(std::span<AdamSlot<float>>, const AdamStep&);
template void adam_update<double>(std::span<AdamSlot<double>>, const AdamStep&);
template void sgd_update<float>(std::span<SgdSlot<float>>, const SgdStep&);
template void sgd_update<double>(std::span<SgdSlot<double>>, const SgdStep&);

}  // namespace kiln::kernels::cpu
