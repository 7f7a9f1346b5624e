// Metrics: the confusion matrix's checks and dispatch.
#include "kiln/ops/metrics.h"

#include <limits>

#include "base/cuda/index_check.h"
#include "engine/ops/dispatch.h"
#include "kernels/metrics.h"

namespace kiln {

void accumulate_confusion(Tensor& confusion, const Tensor& logits, const Tensor& labels) {
  const OpScope op_scope("accumulate_confusion");
  KILN_CHECK(logits.defined() && logits.dim() == 2 && logits.size(1) > 0,
             "accumulate_confusion: logits must be [N, C] with C > 0, got ",
             logits.defined() ? describe(logits) : "an undefined tensor");
  const std::int64_t rows = logits.size(0), classes = logits.size(1);
  KILN_CHECK(labels.defined() && labels.dtype() == DType::i32 && labels.shape() == Shape{rows},
             "accumulate_confusion: labels must be int32 [", rows, "] for logits ", shape_str(logits.shape()),
             ", got ", labels.defined() ? describe(labels) : "an undefined tensor");
  KILN_CHECK(confusion.defined() && confusion.dtype() == DType::i32 && (confusion.shape() == Shape{classes, classes}),
             "accumulate_confusion: confusion must be int32 [", classes, ", ", classes, "] for logits ",
             shape_str(logits.shape()), ", got ", confusion.defined() ? describe(confusion) : "an undefined tensor");
  KILN_CHECK(labels.device() == logits.device() && confusion.device() == logits.device(),
             "accumulate_confusion: logits on ", logits.device().str(), ", labels on ", labels.device().str(),
             ", confusion on ", confusion.device().str(), " (all must be on one device)");
  const cuda::IndexCheck check = cuda::index_check("accumulate_confusion", "label", labels.shape(), classes);
  if (ops::on_cuda("accumulate_confusion", logits)) {
    KILN_CUDA_KERNEL_CALL({
      KILN_CHECK(rows <= std::numeric_limits<std::int32_t>::max(), "accumulate_confusion: the CUDA kernels count ",
                 "rows in int32, got logits ", shape_str(logits.shape()));
      const Tensor predictions = Tensor::empty({rows}, DType::i32, logits.device());
      kernels::cuda::accumulate_confusion(logits.data<float>(), labels.data<std::int32_t>(),
                                          confusion.data<std::int32_t>(), rows, classes, check,
                                          cuda::index_check_record(logits.device().index),
                                          predictions.data<std::int32_t>());
    });
    return;
  }
  const std::int32_t* values = labels.data<std::int32_t>();
  for (std::int64_t row = 0; row < rows; ++row) {
    if (values[row] < 0 || values[row] >= classes) fail(cuda::index_check_message(check, row, values[row]));
  }
  ops::dispatch_float("accumulate_confusion", logits, [&]<class T>() {
    kernels::cpu::accumulate_confusion(logits.data<T>(), values, confusion.data<std::int32_t>(), rows, classes);
  });
}

}  // namespace kiln
