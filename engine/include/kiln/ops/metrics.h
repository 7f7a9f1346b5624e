#pragma once
// Classification metrics that stay on the tensors' device, so that a training loop reads them only when it reports.
#include <cstdint>

#include "kiln/tensor.h"

namespace kiln {

// Adds one count per row of logits [N, C] with labels [N], or per pixel of logits [N, C, H, W] with labels [N, H, W]
// (float32 logits; float64 on the CPU), to confusion [C, C] (int32, on the logits' device) at [label][prediction]:
// the prediction is the index of the largest logit, the first on ties (a NaN never beats an earlier logit). labels:
// int32 on the same device; a label equal to ignore_label counts nowhere. Not recorded by autograd. Any other label
// outside [0, C) throws kiln::Error naming its position; on a CUDA device it is left out and the error is thrown by
// the next read from that device (base/cuda/index_check.h, docs/cuda.md), as cross_entropy's targets are.
void accumulate_confusion(Tensor& confusion, const Tensor& logits, const Tensor& labels,
                          std::int32_t ignore_label = -100);

}  // namespace kiln
