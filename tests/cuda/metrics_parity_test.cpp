#include <catch2/catch.hpp>
#include <limits>
#include <vector>

#include "kiln/kiln.h"
#include "kiln/ops/metrics.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::check_parity;
using kiln::testing::ParityOptions;
using kiln::testing::parity_input;

namespace {

// The confusion counts of logits in[0] against labels in[1], as float32 for the parity check.
Tensor confusion_of(const std::vector<Tensor>& in) {
  Tensor confusion = Tensor::full({in[0].size(1), in[0].size(1)}, 1.0, DType::i32, in[0].device());
  accumulate_confusion(confusion, in[0], in[1]);
  return confusion.to(DType::f32);
}

Tensor labels_for(std::int64_t rows, std::int64_t classes) {
  std::vector<std::int32_t> labels(static_cast<std::size_t>(rows));
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int32_t>(i * 7 % classes);
  return Tensor::from_vector(labels, {rows});
}

}  // namespace

TEST_CASE("parity native: accumulate_confusion", "[parity]") {
  const ParityOptions exact{0, 0};
  // More rows than a block's threads; then more classes than a block's threads.
  check_parity("accumulate_confusion [700, 10]", confusion_of, {parity_input({700, 10}, 70), labels_for(700, 10)},
               exact);
  check_parity("accumulate_confusion [40, 300]", confusion_of, {parity_input({40, 300}, 71), labels_for(40, 300)},
               exact);
  // Ties and NaNs pick as on the CPU.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor odd =
      Tensor::from_vector(std::vector<float>{1, 1, 0, 0, 2, 2, 0, nan, 1, nan, 5, 6, 2, nan, nan}, {5, 3});
  check_parity("accumulate_confusion ties and NaNs", confusion_of, {odd, labels_for(5, 3)}, exact);
}

namespace {

// Per-pixel logits against labels with the ignore label at every fifth pixel.
Tensor pixel_confusion_of(const std::vector<Tensor>& in) {
  Tensor confusion = Tensor::full({in[0].size(1), in[0].size(1)}, 1.0, DType::i32, in[0].device());
  accumulate_confusion(confusion, in[0], in[1], 255);
  return confusion.to(DType::f32);
}

Tensor pixel_labels_for(const Shape& shape, std::int64_t classes) {
  std::vector<std::int32_t> labels(static_cast<std::size_t>(shape_numel(shape)));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    labels[i] = i % 5 == 4 ? 255 : static_cast<std::int32_t>(i * 7 % static_cast<std::size_t>(classes));
  }
  return Tensor::from_vector(labels, shape);
}

}  // namespace

TEST_CASE("parity native: accumulate_confusion per pixel with the ignore label", "[parity]") {
  const ParityOptions exact{0, 0};
  check_parity("accumulate_confusion [2, 5, 3, 7]", pixel_confusion_of,
               {parity_input({2, 5, 3, 7}, 72), pixel_labels_for({2, 3, 7}, 5)}, exact);
  // More positions than the counting grid's threads, so that each thread counts several.
  check_parity("accumulate_confusion [2, 3, 200, 200]", pixel_confusion_of,
               {parity_input({2, 3, 200, 200}, 73), pixel_labels_for({2, 200, 200}, 3)}, exact);
}

TEST_CASE("parity native: accumulate_confusion reports a bad label at the next read from the device", "[parity]") {
  const Device cuda = Device::cuda(0);
  Tensor confusion = Tensor::zeros({3, 3}, DType::i32, cuda);
  const Tensor logits = Tensor::from_vector(std::vector<float>{0, 1, 0, 2, 0, 0, 0, 0, 3, 0, 0, 1}, {4, 3}, cuda);
  accumulate_confusion(confusion, logits, Tensor::from_vector(std::vector<std::int32_t>{1, 4, 2, -2}, {4}).to(cuda));
  CHECK_THROWS_WITH(confusion.cpu(), Catch::Contains("accumulate_confusion: label 4 at [1] of labels [4] is "
                                                     "outside [0, 3)") &&
                                         Catch::Contains("cuda:0"));
  // The rows with valid labels were counted, the others left out.
  const Tensor counts = confusion.cpu();
  CHECK(std::vector<std::int32_t>(counts.data<std::int32_t>(), counts.data<std::int32_t>() + 9) ==
        std::vector<std::int32_t>{0, 0, 0, 0, 1, 0, 0, 0, 1});
}
