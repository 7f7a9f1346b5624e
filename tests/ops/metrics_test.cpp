#include <catch2/catch.hpp>
#include <limits>
#include <vector>

#include "kiln/kiln.h"
#include "kiln/ops/metrics.h"

using namespace kiln;

namespace {
Tensor labels_of(const std::vector<std::int32_t>& values) {
  return Tensor::from_vector(values, {static_cast<std::int64_t>(values.size())});
}

std::vector<std::int32_t> counts(const Tensor& confusion) {
  const std::int32_t* values = confusion.data<std::int32_t>();
  return {values, values + confusion.numel()};
}
}  // namespace

TEST_CASE("forward: accumulate_confusion counts label against prediction and adds up over calls", "[forward]") {
  Tensor confusion = Tensor::zeros({3, 3}, DType::i32);
  // Predictions 2, 0, 1, 2 for labels 2, 1, 1, 0.
  const Tensor logits =
      Tensor::from_vector(std::vector<float>{0, 1, 5, 3, -1, 2, -2, 4, 0, 0.5f, 0.25f, 0.75f}, {4, 3});
  accumulate_confusion(confusion, logits, labels_of({2, 1, 1, 0}));
  CHECK(counts(confusion) == std::vector<std::int32_t>{0, 0, 1, 1, 1, 0, 0, 0, 1});
  accumulate_confusion(confusion, logits.to(DType::f64), labels_of({2, 1, 1, 0}));
  CHECK(counts(confusion) == std::vector<std::int32_t>{0, 0, 2, 2, 2, 0, 0, 0, 2});
  // No rows: nothing changes.
  accumulate_confusion(confusion, Tensor::zeros({0, 3}), labels_of({}));
  CHECK(counts(confusion) == std::vector<std::int32_t>{0, 0, 2, 2, 2, 0, 0, 0, 2});
}

TEST_CASE("forward: accumulate_confusion predicts the first largest logit; a NaN never wins", "[forward]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor confusion = Tensor::zeros({3, 3}, DType::i32);
  // Ties: [1, 1, 0] -> 0, [0, 2, 2] -> 1. NaNs: [0, NaN, 1] -> 2, [NaN, 5, 6] -> 0 (nothing beats a NaN),
  // [2, NaN, NaN] -> 0.
  const Tensor logits =
      Tensor::from_vector(std::vector<float>{1, 1, 0, 0, 2, 2, 0, nan, 1, nan, 5, 6, 2, nan, nan}, {5, 3});
  accumulate_confusion(confusion, logits, labels_of({0, 0, 1, 1, 2}));
  CHECK(counts(confusion) == std::vector<std::int32_t>{1, 1, 0, 1, 0, 1, 1, 0, 0});
}

TEST_CASE("forward: accumulate_confusion counts every pixel of [N, C, H, W] and skips the ignore label", "[forward]") {
  Tensor confusion = Tensor::zeros({2, 2}, DType::i32);
  // Two images of 1x3 pixels; image 0 predicts 0, 1, 1 and image 1 predicts 1, 0, 0.
  const Tensor logits = Tensor::from_vector(std::vector<float>{5, 0, 0, 0, 1, 2, 0, 3, 3, 1, -1, -1}, {2, 2, 1, 3});
  const Tensor labels = Tensor::from_vector(std::vector<std::int32_t>{0, 255, 1, 1, 0, 255}, {2, 1, 3});
  accumulate_confusion(confusion, logits, labels, 255);
  // Counted: (0 -> 0), (1 -> 1), (1 -> 1), (0 -> 0).
  CHECK(counts(confusion) == std::vector<std::int32_t>{2, 0, 0, 2});
  // Without the ignore label, 255 is a bad label naming its pixel.
  CHECK_THROWS_WITH(accumulate_confusion(confusion, logits, labels),
                    Catch::Contains("label 255 at [0, 0, 1] of labels [2, 1, 3] is outside [0, 2)"));
  CHECK_THROWS_WITH(accumulate_confusion(confusion, logits, labels_of({0, 1})),
                    Catch::Contains("labels must be int32 [2, 1, 3]"));
}

TEST_CASE("forward: accumulate_confusion rejects bad labels naming the row, and bad shapes", "[forward]") {
  Tensor confusion = Tensor::zeros({3, 3}, DType::i32);
  const Tensor logits = Tensor::zeros({4, 3});
  CHECK_THROWS_WITH(accumulate_confusion(confusion, logits, labels_of({0, 2, 3, -1})),
                    Catch::Contains("accumulate_confusion: label 3 at [2] of labels [4] is outside [0, 3)"));
  CHECK_THROWS_WITH(accumulate_confusion(confusion, logits, labels_of({0, -1, 1, 1})),
                    Catch::Contains("label -1 at [1]"));
  CHECK(counts(confusion) == std::vector<std::int32_t>(9, 0));  // nothing counted when a label is bad

  CHECK_THROWS_WITH(accumulate_confusion(confusion, logits, labels_of({0, 1, 2})),
                    Catch::Contains("labels must be int32 [4]"));
  CHECK_THROWS_WITH(accumulate_confusion(confusion, logits, Tensor::zeros({4})), Catch::Contains("float32"));
  Tensor wrong = Tensor::zeros({3, 2}, DType::i32);
  CHECK_THROWS_WITH(accumulate_confusion(wrong, logits, labels_of({0, 1, 2, 0})),
                    Catch::Contains("confusion must be int32 [3, 3]"));
  Tensor floats = Tensor::zeros({3, 3});
  CHECK_THROWS_WITH(accumulate_confusion(floats, logits, labels_of({0, 1, 2, 0})),
                    Catch::Contains("confusion must be int32"));
  CHECK_THROWS_WITH(accumulate_confusion(confusion, Tensor::zeros({4, 3, 1}), labels_of({0, 1, 2, 0})),
                    Catch::Contains("logits must be [N, C]"));
  CHECK_THROWS_WITH(accumulate_confusion(confusion, Tensor::zeros({4, 3}, DType::i32), labels_of({0, 1, 2, 0})),
                    Catch::Contains("float32 or float64"));
}
