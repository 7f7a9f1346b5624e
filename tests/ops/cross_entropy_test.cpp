#include <catch2/catch.hpp>

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
