// CUDA optimiser updates: one launch per device over the chunks of all its parameters (a block per chunk, a thread per
// element), the per-element arithmetic of the CPU pass in float.
#include <algorithm>

#include "base/cuda/check.h"
#include "kernels/launch.h"
#include "kernels/multi_tensor.h"
#include "kernels/optimizer.h"
#include "kernels/optimizer_math.h"

namespace kiln::kernels::cuda {
namespace {

constexpr std::int64_t max_update_blocks = 8192;  // more chunks than this are taken in turns

template <class Slot, class Scalars>
__global__ void multi_tensor_update_kernel(const Slot* slots, std::int64_t count, std::int64_t chunks,
                                           Scalars scalars) {
  for (std::int64_t chunk = blockIdx.x; chunk < chunks; chunk += gridDim.x) {
    const ChunkRange range = locate_chunk(slots, count, chunk);
    const Slot slot = slots[range.entry];
    const auto l2 = static_cast<typename Scalars::Real>(slot.l2);
    for (std::int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
      update_element(slot, i, l2, scalars);
    }
  }
}

template <class Slot, class Scalars>
void update_all(std::span<Slot> slots, Slot* device_table, const Scalars& scalars) {
  const std::int64_t chunks = assign_chunks(slots);
  if (chunks == 0) return;
  // Pageable memory: the copy is staged at once and queued before the launch, which reads the table.
  KILN_CUDA_CHECK(cudaMemcpyAsync(device_table, slots.data(), slots.size_bytes(), cudaMemcpyHostToDevice, nullptr));
  const dim3 grid(static_cast<unsigned>(std::min(chunks, max_update_blocks)));
  KILN_LAUNCH((multi_tensor_update_kernel<Slot, Scalars>), grid, dim3(threads_per_block), 0, nullptr, device_table,
              static_cast<std::int64_t>(slots.size()), chunks, scalars);
}

}  // namespace

void adam_update(std::span<AdamSlot<float>> slots, AdamSlot<float>* device_table, const AdamStep& step) {
  update_all(slots, device_table, AdamScalars<float>(step));
}

void sgd_update(std::span<SgdSlot<float>> slots, SgdSlot<float>* device_table, const SgdStep& step) {
  update_all(slots, device_table, SgdScalars<float>(step));
}

}  // namespace kiln::kernels::cuda
