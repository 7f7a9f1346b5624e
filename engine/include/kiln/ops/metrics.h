#pragma once
// Classification metrics that stay on the tensors' device, so that a training loop reads them only when it reports.
#include "kiln/tensor.h"

namespace kiln {

// Adds one count per row of logits [N, C] (float32; float64 on the CPU) to confusion [C, C] (int32, on the logits'
// device) at [label][prediction]: the prediction is the index of the row's largest logit, the first on ties (a NaN
// never beats an earlier logit). labels: int32 [N] on the same device. Not recorded by autograd. A label outside
// [0, C) throws kiln::Error naming its row; on a CUDA device the row is left out and the error is thrown by the next
// read from that device (base/cuda/index_check.h, docs/cuda.md), as cross_entropy's targets are.
void accumulate_confusion(Tensor& confusion, const Tensor& logits, const Tensor& labels);

}  // namespace kiln
