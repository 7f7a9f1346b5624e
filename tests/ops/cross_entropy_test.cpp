#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "kiln/kiln.h"
#include "tests/support/expect.h"
#include "tests/support/gradcheck.h"

using namespace kiln;
using kiln::testing::check_close;
using kiln::testing::check_gradients;
using kiln::testing::random_input;

namespace {

Tensor logits_leaf(const std::vector<float>& values, const Shape& shape) {
  Tensor logits = Tensor::from_vector(values, shape);
  logits.set_requires_grad(true);
  return logits;
}

// Row [1, 2, 3] with target 2: log(e^1 + e^2 + e^3) - 3 = log(1 + e^-1 + e^-2);
// softmax (e^-2, e^-1, 1) / (1 + e^-1 + e^-2) = (0.0900306, 0.2447285, 0.6652410).
constexpr double row_loss = 0.40760596444;
constexpr double p0 = 0.09003057317, p1 = 0.24472847105, p2 = 0.66524095578;
constexpr double ln2 = 0.69314718056, ln3 = 1.09861228867;

}  // namespace

TEST_CASE("forward: cross_entropy on 2x3 logits", "[forward]") {
  // Row 1 is [0, 0, 0] with target 0: ln 3, softmax 1/3 each.
  const Tensor logits = logits_leaf({1, 2, 3, 0, 0, 0}, {2, 3});
  const Tensor loss = cross_entropy(logits, Tensor::from_vector(std::vector<std::int32_t>{2, 0}, {2}));
  CHECK(loss.shape().empty());
  CHECK(loss.item() == Approx((row_loss + ln3) / 2));
  loss.backward();
  check_close(logits.grad().to_vector(), {p0 / 2, p1 / 2, (p2 - 1) / 2, -1.0 / 3, 1.0 / 6, 1.0 / 6});
  // Subtracting the maximum keeps huge logits finite.
  const Tensor huge = Tensor::from_vector(std::vector<float>{1000, 1001, 1002}, {1, 3});
  CHECK(cross_entropy(huge, Tensor::from_vector(std::vector<std::int32_t>{2}, {1})).item() == Approx(row_loss));
}

TEST_CASE("forward: cross_entropy skips ignored targets", "[forward]") {
  const Tensor logits = logits_leaf({1, 2, 3, 0, 0, 0}, {2, 3});
  const Tensor loss = cross_entropy(logits, Tensor::from_vector(std::vector<std::int32_t>{2, 255}, {2}), 255);
  CHECK(loss.item() == Approx(row_loss));  // the mean over the one counted row
  loss.backward();
  check_close(logits.grad().to_vector(), {p0, p1, p2 - 1, 0, 0, 0});

  const Tensor all_ignored = logits_leaf({1, 2, 3, 0, 0, 0}, {2, 3});
  const Tensor zero = cross_entropy(all_ignored, Tensor::from_vector(std::vector<std::int32_t>{-100, -100}, {2}));
  CHECK(zero.item() == 0.0);
  zero.backward();
  CHECK(all_ignored.grad().to_vector() == std::vector<float>(6, 0.0f));
}

TEST_CASE("forward: cross_entropy per pixel", "[forward]") {
  // [N=2, C=2, H=1, W=2]. Sample 0: pixel 0 scores (0, 0) target 1 -> ln 2; pixel 1 scores (2, 0) target 0 ->
  // log(1 + e^-2). Sample 1: pixel 0 ignored; pixel 1 scores (0, 0) target 0 -> ln 2. Mean over 3 pixels.
  const Tensor logits = logits_leaf({0, 2, 0, 0, 1, 0, 1, 0}, {2, 2, 1, 2});
  const Tensor targets = Tensor::from_vector(std::vector<std::int32_t>{1, 0, 255, 0}, {2, 1, 2});
  const Tensor loss = cross_entropy(logits, targets, 255);
  const double pixel1_loss = 0.12692801104;  // log(1 + e^-2)
  CHECK(loss.item() == Approx((2 * ln2 + pixel1_loss) / 3));
  loss.backward();
  // Pixel 1 of sample 0: softmax (1 / (1 + e^-2), e^-2 / (1 + e^-2)) = (0.8807971, 0.1192029).
  const double q0 = 0.88079707798, q1 = 0.11920292202;
  check_close(logits.grad().to_vector(), {0.5 / 3, (q0 - 1) / 3, -0.5 / 3, q1 / 3, 0, -0.5 / 3, 0, 0.5 / 3});
}

TEST_CASE("forward: cross_entropy rejects bad targets and shapes", "[forward]") {
  const Tensor logits = Tensor::zeros({2, 3});
  CHECK_THROWS_WITH(cross_entropy(logits, Tensor::from_vector(std::vector<std::int32_t>{0, 3}, {2})),
                    Catch::Contains("cross_entropy") && Catch::Contains("target 3 at [1]"));
  CHECK_THROWS_WITH(cross_entropy(Tensor::zeros({1, 3, 2, 2}),
                                  Tensor::from_vector(std::vector<std::int32_t>{0, -1, 2, 1}, {1, 2, 2})),
                    Catch::Contains("cross_entropy") && Catch::Contains("target -1 at [0, 0, 1]"));
  CHECK_THROWS_WITH(cross_entropy(logits, Tensor::from_vector(std::vector<std::int32_t>{0, 1, 2}, {3})),
                    Catch::Contains("cross_entropy") && Catch::Contains("[3]") && Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(cross_entropy(logits, Tensor::zeros({2})),
                    Catch::Contains("cross_entropy") && Catch::Contains("int32"));
  CHECK_THROWS_WITH(cross_entropy(Tensor::zeros({2, 3, 4}), Tensor::from_vector(std::vector<std::int32_t>{0, 0}, {2})),
                    Catch::Contains("cross_entropy") && Catch::Contains("[2, 3, 4]"));
}

TEST_CASE("gradcheck: cross_entropy", "[gradcheck]") {
  const Tensor class_targets = Tensor::from_vector(std::vector<std::int32_t>{2, 0, 1, 2, 1}, {5});
  check_gradients([&](auto& in) { return cross_entropy(in[0], class_targets); }, {random_input({5, 3}, 41, -2, 2)});
  // Per pixel [3, 3, 3, 5] with every fourth pixel ignored.
  std::vector<std::int32_t> pixel_targets(3 * 3 * 5);
  for (std::size_t i = 0; i < pixel_targets.size(); ++i) {
    pixel_targets[i] = i % 4 == 3 ? -100 : static_cast<std::int32_t>(i % 3);
  }
  const Tensor targets = Tensor::from_vector(pixel_targets, {3, 3, 5});
  check_gradients([&](auto& in) { return cross_entropy(in[0], targets); }, {random_input({3, 3, 3, 5}, 42, -2, 2)});
}

TEST_CASE("forward: cross_entropy with class weights", "[forward]") {
  // The 2x3 case weighted (2, 1, 0.5): row 0 (target 2) weighs 0.5, row 1 (target 0) weighs 2, so the loss is
  // (0.5 * row_loss + 2 * ln 3) / 2.5 and each row's gradient is (softmax - onehot) * weight / 2.5.
  const ClassWeights weights({2.0f, 1.0f, 0.5f});
  const Tensor logits = logits_leaf({1, 2, 3, 0, 0, 0}, {2, 3});
  const Tensor loss = cross_entropy(logits, Tensor::from_vector(std::vector<std::int32_t>{2, 0}, {2}), weights);
  CHECK(loss.shape().empty());
  CHECK(loss.item() == Approx((0.5 * row_loss + 2 * ln3) / 2.5));
  loss.backward();
  check_close(logits.grad().to_vector(),
              {p0 * 0.2, p1 * 0.2, (p2 - 1) * 0.2, -2.0 / 3 * 0.8, 1.0 / 3 * 0.8, 1.0 / 3 * 0.8});

  // An ignored row adds nothing to either sum: the weighted mean of one row is that row's loss.
  const Tensor one_row = logits_leaf({1, 2, 3, 0, 0, 0}, {2, 3});
  const Tensor one_loss =
      cross_entropy(one_row, Tensor::from_vector(std::vector<std::int32_t>{2, 255}, {2}), weights, 255);
  CHECK(one_loss.item() == Approx(row_loss));
  one_loss.backward();
  check_close(one_row.grad().to_vector(), {p0, p1, p2 - 1, 0, 0, 0});
}

TEST_CASE("forward: cross_entropy with class weights whose counted sum is 0 gives 0", "[forward]") {
  // PyTorch gives NaN (0 / 0); kiln keeps its convention for "nothing counted": loss and gradient 0.
  const Tensor targets = Tensor::from_vector(std::vector<std::int32_t>{1, -100}, {2});
  for (const ClassWeights& weights : {ClassWeights({1.0f, 0.0f, 1.0f}), ClassWeights({0.0f, 0.0f, 0.0f})}) {
    const Tensor logits = logits_leaf({1, 2, 3, 0, 0, 0}, {2, 3});
    const Tensor loss = cross_entropy(logits, targets, weights);
    CHECK(loss.item() == 0.0);
    loss.backward();
    CHECK(logits.grad().to_vector() == std::vector<float>(6, 0.0f));
  }
  const Tensor all_ignored = logits_leaf({1, 2, 3, 0, 0, 0}, {2, 3});
  const Tensor zero = cross_entropy(all_ignored, Tensor::from_vector(std::vector<std::int32_t>{-100, -100}, {2}),
                                    ClassWeights({1.0f, 2.0f, 3.0f}));
  CHECK(zero.item() == 0.0);
  zero.backward();
  CHECK(all_ignored.grad().to_vector() == std::vector<float>(6, 0.0f));
}

TEST_CASE("forward: cross_entropy per pixel with class weights", "[forward]") {
  // The per-pixel case above with weights (3, 1): the counted pixels weigh 1 (ln 2), 3 (log(1 + e^-2)) and 3 (ln 2),
  // 7 in all; the ignored pixel still counts for nothing.
  const Tensor logits = logits_leaf({0, 2, 0, 0, 1, 0, 1, 0}, {2, 2, 1, 2});
  const Tensor targets = Tensor::from_vector(std::vector<std::int32_t>{1, 0, 255, 0}, {2, 1, 2});
  const Tensor loss = cross_entropy(logits, targets, ClassWeights({3.0f, 1.0f}), 255);
  const double pixel1_loss = 0.12692801104;  // log(1 + e^-2)
  CHECK(loss.item() == Approx((ln2 + 3 * pixel1_loss + 3 * ln2) / 7));
  loss.backward();
  const double q0 = 0.88079707798, q1 = 0.11920292202;
  check_close(logits.grad().to_vector(), {0.5 / 7, 3 * (q0 - 1) / 7, -0.5 / 7, 3 * q1 / 7, 0, -1.5 / 7, 0, 1.5 / 7});
}

TEST_CASE("forward: cross_entropy with unit class weights is the unweighted op bit for bit", "[forward]") {
  Generator generator(43);
  const Tensor values = Tensor::uniform({3, 4, 5, 6}, -4, 4, generator);
  std::vector<std::int32_t> pixel_targets(3 * 5 * 6);
  for (std::size_t i = 0; i < pixel_targets.size(); ++i) {
    pixel_targets[i] = i % 7 == 6 ? -100 : static_cast<std::int32_t>(i % 4);
  }
  const Tensor targets = Tensor::from_vector(pixel_targets, {3, 5, 6});
  for (const DType dtype : {DType::f32, DType::f64}) {
    Tensor plain = values.to(dtype).clone(), weighted = values.to(dtype).clone();
    plain.set_requires_grad(true);
    weighted.set_requires_grad(true);
    const Tensor plain_loss = cross_entropy(plain, targets);
    const Tensor weighted_loss = cross_entropy(weighted, targets, ClassWeights(std::vector<float>(4, 1.0f)));
    CHECK(weighted_loss.item() == plain_loss.item());
    plain_loss.backward();
    weighted_loss.backward();
    CHECK(weighted.grad().to_vector_f64() == plain.grad().to_vector_f64());
  }
}

TEST_CASE("forward: cross_entropy rejects bad class weights", "[forward]") {
  CHECK_THROWS_WITH(ClassWeights({1.0f, -0.5f, 1.0f}),
                    Catch::Contains("cross_entropy: class weight -0.5 at [1] of class weights [3]") &&
                        Catch::Contains("not a finite non-negative number"));
  CHECK_THROWS_WITH(ClassWeights({std::nanf(""), 1.0f}),
                    Catch::Contains("cross_entropy: class weight nan at [0] of class weights [2]"));
  CHECK_THROWS_WITH(ClassWeights({1.0f, std::numeric_limits<float>::infinity()}),
                    Catch::Contains("cross_entropy: class weight inf at [1] of class weights [2]"));
  CHECK_THROWS_WITH(ClassWeights(std::vector<float>{}), Catch::Contains("cross_entropy: class weights are empty"));
  CHECK_THROWS_WITH(
      ClassWeights(Tensor::ones({3}, DType::f64)),
      Catch::Contains("cross_entropy: class weights must be a 1-D float32 tensor") && Catch::Contains("float64"));
  CHECK_THROWS_WITH(
      ClassWeights(Tensor::ones({1, 3})),
      Catch::Contains("cross_entropy: class weights must be a 1-D float32 tensor") && Catch::Contains("[1, 3]"));
  CHECK_THROWS_WITH(ClassWeights(Tensor()),
                    Catch::Contains("cross_entropy: class weights must be") && Catch::Contains("undefined"));
  CHECK_THROWS_WITH(ClassWeights(Tensor::from_vector(std::vector<float>{1, -1}, {2})),
                    Catch::Contains("class weight -1 at [1] of class weights [2]"));
  CHECK_THROWS_WITH(
      cross_entropy(Tensor::zeros({2, 3}), Tensor::from_vector(std::vector<std::int32_t>{0, 1}, {2}),
                    ClassWeights({1.0f, 1.0f})),
      Catch::Contains("cross_entropy: class weights [2] do not match logits [2, 3] (expected 3 weights)"));
}

TEST_CASE("forward: ClassWeights from a tensor keep their own copy", "[forward]") {
  Tensor source = Tensor::from_vector(std::vector<float>{1, 2, 4}, {3});
  const ClassWeights weights(source);
  source.data<float>()[2] = -1.0f;  // too late: the checked weights are a copy
  CHECK(weights.tensor().to_vector() == std::vector<float>{1, 2, 4});
  CHECK(weights.tensor().dtype() == DType::f32);
  CHECK(weights.tensor().device() == Device::cpu());
}

TEST_CASE("gradcheck: cross_entropy with class weights", "[gradcheck]") {
  const ClassWeights class_weights({0.5f, 2.0f, 1.25f});
  const Tensor class_targets = Tensor::from_vector(std::vector<std::int32_t>{2, 0, 1, 2, 1}, {5});
  check_gradients([&](auto& in) { return cross_entropy(in[0], class_targets, class_weights); },
                  {random_input({5, 3}, 44, -2, 2)});
  // Per pixel [3, 3, 3, 5] with every fourth pixel ignored (ignore_index 255) and one class weighted 0.
  const ClassWeights pixel_weights({1.5f, 0.0f, 0.75f});
  std::vector<std::int32_t> pixel_targets(3 * 3 * 5);
  for (std::size_t i = 0; i < pixel_targets.size(); ++i) {
    pixel_targets[i] = i % 4 == 3 ? 255 : static_cast<std::int32_t>(i % 3);
  }
  const Tensor targets = Tensor::from_vector(pixel_targets, {3, 3, 5});
  check_gradients([&](auto& in) { return cross_entropy(in[0], targets, pixel_weights, 255); },
                  {random_input({3, 3, 3, 5}, 45, -2, 2)});
}
