#include <catch2/catch.hpp>
#include <numeric>

#include "kiln/kiln.h"
#include "tests/support/gradcheck.h"

using namespace kiln;
using kiln::testing::check_gradients;
using kiln::testing::random_input;

namespace {

void check_close(const Tensor& actual, const std::vector<double>& expected) {
  const std::vector<float> values = actual.to_vector();
  REQUIRE(values.size() == expected.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    INFO("element " << i);
    CHECK(values[i] == Approx(expected[i]));
  }
}

// x[h][w] = 4h + w on a 4x4 image.
Tensor ramp4x4() {
  std::vector<float> values(16);
  std::iota(values.begin(), values.end(), 0.0f);
  return Tensor::from_vector(values, {1, 1, 4, 4});
}

std::vector<float> gradient_of_sum(std::int64_t out_h, std::int64_t out_w, ResizeMode mode) {
  Tensor x = ramp4x4();
  x.set_requires_grad(true);
  sum(resize_bilinear(x, out_h, out_w, mode)).backward();
  return x.grad().to_vector();
}

}  // namespace

TEST_CASE("forward: resize_bilinear 2x2 -> 3x3 in each mode", "[forward]") {
  // x = 1 + 2h + w + hw, so the output at effective source (s_h, s_w) is 1 + 2 s_h + s_w + s_h s_w.
  const Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3, 5}, {1, 1, 2, 2});
  // align_corners: s = d * 1/2 = 0, 0.5, 1.
  const Tensor aligned = resize_bilinear(x, 3, 3, ResizeMode::align_corners);
  CHECK(aligned.shape() == Shape{1, 1, 3, 3});
  check_close(aligned, {1, 1.5, 2, 2, 2.75, 3.5, 3, 4, 5});
  // half_pixel: s = (d + 0.5) * 2/3 - 0.5 = -1/6 (clamped to 0), 0.5, 7/6 (past the last row: row 1).
  check_close(resize_bilinear(x, 3, 3, ResizeMode::half_pixel), {1, 1.5, 2, 2, 2.75, 3.5, 3, 4, 5});
  // tf1_legacy: s = d * 2/3 = 0, 2/3, 4/3 (past the last row: row 1).
  check_close(resize_bilinear(x, 3, 3, ResizeMode::tf1_legacy),
              {1, 5.0 / 3, 2, 7.0 / 3, 31.0 / 9, 4, 3, 13.0 / 3, 5});
}

TEST_CASE("forward: resize_bilinear downsampling and output size 1", "[forward]") {
  const Tensor x = ramp4x4();
  // tf1_legacy 4 -> 2 samples rows and columns 0 and 2 exactly.
  CHECK(resize_bilinear(x, 2, 2, ResizeMode::tf1_legacy).to_vector() == std::vector<float>{0, 2, 8, 10});
  // half_pixel: s = (d + 0.5) * 2 - 0.5 = 0.5, 2.5; align_corners: s = d * 3 = 0, 3.
  check_close(resize_bilinear(x, 2, 2, ResizeMode::half_pixel), {2.5, 4.5, 10.5, 12.5});
  check_close(resize_bilinear(x, 2, 2, ResizeMode::align_corners), {0, 3, 12, 15});
  // Output size 1: align_corners and tf1_legacy sample 0; half_pixel samples (0.5) * 4 - 0.5 = 1.5.
  check_close(resize_bilinear(x, 1, 1, ResizeMode::align_corners), {0});
  check_close(resize_bilinear(x, 1, 1, ResizeMode::half_pixel), {7.5});
  check_close(resize_bilinear(x, 1, 1, ResizeMode::tf1_legacy), {0});
  // Mixed: height up 4 -> 7 (align_corners s = d / 2), width down to 1.
  check_close(resize_bilinear(x, 7, 1, ResizeMode::align_corners), {0, 2, 4, 6, 8, 10, 12});
}

TEST_CASE("forward: resize_bilinear backward scatters with the forward weights", "[forward]") {
  CHECK(gradient_of_sum(2, 2, ResizeMode::half_pixel) == std::vector<float>(16, 0.25f));
  CHECK(gradient_of_sum(2, 2, ResizeMode::align_corners) ==
        std::vector<float>{1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1});
  CHECK(gradient_of_sum(2, 2, ResizeMode::tf1_legacy) ==
        std::vector<float>{1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0});
}

TEST_CASE("errors: resize_bilinear arguments are checked", "[errors]") {
  CHECK_THROWS_WITH(resize_bilinear(Tensor::ones({1, 1, 2, 2}), 0, 3, ResizeMode::half_pixel),
                    Catch::Contains("resize_bilinear") && Catch::Contains("output size 0x3") &&
                        Catch::Contains("[1, 1, 2, 2]"));
  CHECK_THROWS_WITH(resize_bilinear(Tensor::ones({2, 2}), 3, 3, ResizeMode::half_pixel),
                    Catch::Contains("resize_bilinear") && Catch::Contains("[2, 2]"));
  CHECK_THROWS_WITH(resize_bilinear(Tensor::ones({1, 1, 2, 0}), 3, 3, ResizeMode::tf1_legacy),
                    Catch::Contains("resize_bilinear") && Catch::Contains("[1, 1, 2, 0]"));
}

TEST_CASE("gradcheck: resize_bilinear", "[gradcheck]") {
  const Tensor x = random_input({2, 2, 3, 5}, 31);
  const Tensor thin = random_input({2, 1, 1, 3}, 32);
  for (const ResizeMode mode : {ResizeMode::align_corners, ResizeMode::half_pixel, ResizeMode::tf1_legacy}) {
    INFO("mode " << static_cast<int>(mode));
    check_gradients([mode](auto& in) { return resize_bilinear(in[0], 5, 8, mode); }, {x});
    check_gradients([mode](auto& in) { return resize_bilinear(in[0], 2, 3, mode); }, {x});
    check_gradients([mode](auto& in) { return resize_bilinear(in[0], 1, 1, mode); }, {x});
    check_gradients([mode](auto& in) { return resize_bilinear(in[0], 3, 2, mode); }, {thin});
  }
}
