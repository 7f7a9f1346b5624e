#include <catch2/catch.hpp>
#include <limits>

#include "kernels/parallel.h"
#include "kiln/kiln.h"
#include "tests/support/gradcheck.h"

using namespace kiln;
using kiln::testing::check_gradients;
using kiln::testing::random_input;

namespace {

// [1, channels, height, width] whose element (c, h, w) is 100c + 10h + w, so that a crop's values name their places.
Tensor positions(std::int64_t channels, std::int64_t height, std::int64_t width) {
  std::vector<float> values;
  for (std::int64_t c = 0; c < channels; ++c) {
    for (std::int64_t h = 0; h < height; ++h) {
      for (std::int64_t w = 0; w < width; ++w) values.push_back(static_cast<float>(100 * c + 10 * h + w));
    }
  }
  return Tensor::from_vector(values, {1, channels, height, width});
}

// The crop by index arithmetic alone.
std::vector<double> reference_crop(const Tensor& x, std::int64_t top, std::int64_t left, std::int64_t height,
                                   std::int64_t width) {
  const std::vector<double> in = x.to_vector_f64();
  const std::int64_t in_height = x.size(2), in_width = x.size(3);
  std::vector<double> out;
  for (std::int64_t plane = 0; plane < x.size(0) * x.size(1); ++plane) {
    for (std::int64_t row = top; row < top + height; ++row) {
      for (std::int64_t column = left; column < left + width; ++column) {
        out.push_back(in[static_cast<std::size_t>((plane * in_height + row) * in_width + column)]);
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("forward: crop2d on hand-computed values", "[forward][crop]") {
  // Rows 1-2, columns 2-4 of each plane.
  Tensor x = positions(2, 4, 5);
  x.set_requires_grad(true);
  const Tensor y = crop2d(x, 1, 2, 2, 3);
  CHECK(y.shape() == Shape{1, 2, 2, 3});
  CHECK(y.to_vector() == std::vector<float>{12, 13, 14, 22, 23, 24, 112, 113, 114, 122, 123, 124});
  // The gradient lands at the window, zero elsewhere.
  const Tensor weights = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {1, 2, 2, 3});
  sum(mul(y, weights)).backward();
  CHECK(x.grad().shape() == Shape{1, 2, 4, 5});
  CHECK(x.grad().to_vector() == std::vector<float>{0, 0, 0,  0,  0,   //
                                                   0, 0, 1,  2,  3,   //
                                                   0, 0, 4,  5,  6,   //
                                                   0, 0, 0,  0,  0,   //
                                                   0, 0, 0,  0,  0,   //
                                                   0, 0, 7,  8,  9,   //
                                                   0, 0, 10, 11, 12,  //
                                                   0, 0, 0,  0,  0});
  // A single element at the bottom-right corner, and a full-width band.
  CHECK(crop2d(positions(1, 3, 3), 2, 2, 1, 1).to_vector() == std::vector<float>{22});
  CHECK(crop2d(positions(1, 3, 3), 1, 0, 2, 3).to_vector() == std::vector<float>{10, 11, 12, 20, 21, 22});
}

TEST_CASE("forward: crop2d of the whole input, float64, FCN offsets, threaded", "[forward][crop]") {
  // The whole input: equal values in a new tensor.
  const Tensor x = random_input({2, 3, 4, 5}, 6).detach();
  const Tensor whole = crop2d(x, 0, 0, 4, 5);
  CHECK(whole.shape() == x.shape());
  CHECK(whole.to_vector_f64() == x.to_vector_f64());
  CHECK(whole.raw_data() != x.raw_data());
  // float64 keeps its dtype.
  const Tensor doubles = random_input({2, 2, 6, 7}, 7).detach();
  const Tensor cropped = crop2d(doubles, 2, 1, 3, 4);
  CHECK(cropped.dtype() == DType::f64);
  CHECK(cropped.to_vector_f64() == reference_crop(doubles, 2, 1, 3, 4));
  // FCN-8s's offsets (5, 9, 31) on maps large enough to split over threads; the result must not depend on their number.
  const Tensor large = random_input({2, 21, 70, 72}, 8).detach().to(DType::f32);
  const int saved_threads = kernels::num_threads();
  for (const int threads : {1, 3}) {
    INFO(threads << " threads");
    kernels::set_num_threads(threads);
    CHECK(crop2d(large, 5, 5, 60, 64).to_vector_f64() == reference_crop(large, 5, 5, 60, 64));
    CHECK(crop2d(large, 9, 9, 40, 41).to_vector_f64() == reference_crop(large, 9, 9, 40, 41));
    CHECK(crop2d(large, 31, 31, 32, 32).to_vector_f64() == reference_crop(large, 31, 31, 32, 32));
  }
  kernels::set_num_threads(saved_threads);
}

TEST_CASE("errors: crop2d's input and window are checked", "[errors][crop]") {
  using Catch::Contains;
  const Tensor x = Tensor::ones({1, 2, 4, 5});
  CHECK_THROWS_WITH(crop2d(Tensor::ones({2, 4, 5}), 0, 0, 1, 1), Contains("crop2d") && Contains("rank 4") &&
                                                                     Contains("(top 0, left 0, height 1, width 1)") &&
                                                                     Contains("[2, 4, 5]"));
  CHECK_THROWS_WITH(crop2d(Tensor::ones({1, 1, 2, 4, 5}), 0, 0, 1, 1),
                    Contains("crop2d") && Contains("rank 4") && Contains("[1, 1, 2, 4, 5]"));
  CHECK_THROWS_WITH(crop2d(x, -1, 0, 1, 1), Contains("crop2d") && Contains("negative offset") &&
                                                Contains("(top -1, left 0, height 1, width 1)") &&
                                                Contains("[1, 2, 4, 5]"));
  CHECK_THROWS_WITH(crop2d(x, 0, -2, 1, 1), Contains("crop2d") && Contains("negative offset") && Contains("left -2"));
  CHECK_THROWS_WITH(crop2d(x, 0, 0, 0, 1), Contains("crop2d") && Contains("non-positive size") &&
                                               Contains("(top 0, left 0, height 0, width 1)") &&
                                               Contains("[1, 2, 4, 5]"));
  CHECK_THROWS_WITH(crop2d(x, 0, 0, 1, -3),
                    Contains("crop2d") && Contains("non-positive size") && Contains("width -3"));
  CHECK_THROWS_WITH(crop2d(x, 1, 0, 4, 5), Contains("crop2d") && Contains("does not fit") &&
                                               Contains("(top 1, left 0, height 4, width 5)") &&
                                               Contains("[1, 2, 4, 5]"));
  CHECK_THROWS_WITH(crop2d(x, 0, 3, 2, 3), Contains("crop2d") && Contains("does not fit") && Contains("left 3"));
  CHECK_THROWS_WITH(crop2d(x, 0, 0, 5, 1), Contains("crop2d") && Contains("does not fit") && Contains("height 5"));
  // Offsets so large that top + height would overflow.
  CHECK_THROWS_WITH(crop2d(x, std::numeric_limits<std::int64_t>::max(), 0, 1, 1),
                    Contains("crop2d") && Contains("does not fit"));
  CHECK_THROWS_WITH(crop2d(Tensor(), 0, 0, 1, 1), Contains("crop2d") && Contains("undefined"));
  CHECK_THROWS_WITH(crop2d(Tensor::zeros({1, 1, 2, 2}, DType::i32), 0, 0, 1, 1),
                    Contains("crop2d") && Contains("float32 or float64"));
}

TEST_CASE("gradcheck: crop2d", "[gradcheck][crop]") {
  check_gradients([](auto& in) { return crop2d(in[0], 1, 2, 3, 3); }, {random_input({2, 3, 5, 6}, 61)});
  check_gradients([](auto& in) { return crop2d(in[0], 0, 0, 2, 1); }, {random_input({1, 2, 4, 3}, 62)});
  check_gradients([](auto& in) { return crop2d(in[0], 2, 1, 2, 2); }, {random_input({1, 2, 4, 3}, 63)});
  check_gradients([](auto& in) { return crop2d(in[0], 0, 0, 3, 4); }, {random_input({2, 1, 3, 4}, 64)});
}
