// Metrics: the confusion matrix's checks and dispatch.
#include "kiln/ops/metrics.h"

#include <limits>

#include "base/cuda/index_check.h"
#include "engine/ops/dispatch.h"
#include "kernels/metrics.h"

namespace kiln {

void accumulate_confusion(Tensor& confusion, const Tensor& logits, const Tensor& labels, std::int32_t ignore_label) {
  const OpScope op_scope("accumulate_confusion");
  KILN_CHECK(logits.defined() && (logits.dim() == 2 || logits.dim() == 4) && logits.size(1) > 0,
             "accumulate_confusion: logits must be [N, C] or [N, C, H, W] with "
             "C > 0, got ",
             logits.defined() ? describe(logits) : "an undefined tensor");
  const std::int64_t outer = logits.size(0), classes = logits.size(1);
  Shape expected_labels = logits.shape();
  expected_labels.erase(expected_labels.begin() + 1);  // the class dimension
  const std::int64_t inner = logits.dim() == 4 ? logits.size(2) * logits.size(3) : 1;
  KILN_CHECK(labels.defined() && labels.dtype() == DType::i32 && labels.shape() == expected_labels,
             "accumulate_confusion: labels must be int32 ", shape_str(expected_labels), " for logits ",
             shape_str(logits.shape()), ", got ", labels.defined() ? describe(labels) : "an undefined tensor");
  KILN_CHECK(confusion.defined() && confusion.dtype() == DType::i32 && (confusion.shape() == Shape{classes, classes}),
             "accumulate_confusion: confusion must be int32 [", classes, ", ", classes, "] for logits ",
             shape_str(logits.shape()), ", got ", confusion.defined() ? describe(confusion) : "an undefined tensor");
  KILN_CHECK(labels.device() == logits.device() && confusion.device() == logits.device(),
             "accumulate_confusion: logits on ", logits.device().str(), ", labels on ", labels.device().str(),
             ", confusion on ", confusion.device().str(), " (all must be on one device)");
  cuda::IndexCheck check = cuda::index_check("accumulate_confusion", "label", labels.shape(), classes);
  check.has_ignored = true;
  check.ignored = ignore_label;
  if (ops::on_cuda("accumulate_confusion", logits)) {
    KILN_CUDA_KERNEL_CALL({
      KILN_CHECK(labels.numel() <= std::numeric_limits<std::int32_t>::max(), "accumulate_confusion: the CUDA ",
                 "kernels count positions in int32, got logits ", shape_str(logits.shape()));
      const Tensor invalid_partials = Tensor::empty({kernels::cuda::confusion_partials}, DType::i32, logits.device());
      kernels::cuda::accumulate_confusion(
          logits.data<float>(), labels.data<std::int32_t>(), confusion.data<std::int32_t>(), outer, classes, inner,
          ignore_label, check, cuda::index_check_record(logits.device().index), invalid_partials.data<std::int32_t>());
    });
    return;
  }
  const std::int32_t* values = labels.data<std::int32_t>();
  for (std::int64_t position = 0; position < labels.numel(); ++position) {
    const std::int32_t label = values[position];
    if (label != ignore_label && (label < 0 || label >= classes)) {
      fail(cuda::index_check_message(check, position, label));
    }
  }
  ops::dispatch_float("accumulate_confusion", logits, [&]<class T>() {
    kernels::cpu::accumulate_confusion(logits.data<T>(), values, confusion.data<std::int32_t>(), outer, classes, inner,
                                       ignore_label);
  });
}

}  // namespace kiln
