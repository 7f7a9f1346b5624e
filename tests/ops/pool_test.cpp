#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "kiln/kiln.h"
#include "tests/support/gradcheck.h"

using namespace kiln;
using kiln::testing::check_gradients;
using kiln::testing::random_input;

namespace {

// first, first + 1, ... in row-major order, as float32.
Tensor counting(const Shape& shape, float first = 1) {
  std::vector<float> values(static_cast<std::size_t>(shape_numel(shape)));
  std::iota(values.begin(), values.end(), first);
  return Tensor::from_vector(values, shape);
}

// The gradient that sum(pool(x)) sends to a float32 x (through a fresh leaf copy, so gradients never accumulate).
template <class Pool>
std::vector<float> gradient_of_sum(const Tensor& x, Pool pool) {
  Tensor leaf = x.clone();
  leaf.set_requires_grad(true);
  sum(pool(leaf)).backward();
  return leaf.grad().to_vector();
}

// A float64 leaf with distinct values: a shuffled sequence with step 0.05 plus noise below 0.01, so the finite
// differences of a max never cross a tie between window elements.
Tensor distinct_input(const Shape& shape, std::uint64_t seed) {
  Tensor x = random_input(shape, seed, -0.01, 0.01);
  std::vector<double> ranks(static_cast<std::size_t>(x.numel()));
  std::iota(ranks.begin(), ranks.end(), -static_cast<double>(ranks.size()) / 2);
  Generator generator(seed);
  for (std::size_t i = ranks.size(); i > 1; --i) std::swap(ranks[i - 1], ranks[generator.below(i)]);
  double* values = x.data<double>();
  for (std::size_t i = 0; i < ranks.size(); ++i) values[i] += 0.05 * ranks[i];
  return x;
}

Pool2dOptions rectangular(std::int64_t kernel_h, std::int64_t kernel_w, std::int64_t stride, std::int64_t pad_h,
                          std::int64_t pad_w, bool ceil_mode) {
  Pool2dOptions options;
  options.kernel_h = kernel_h;
  options.kernel_w = kernel_w;
  options.stride_h = options.stride_w = stride;
  options.pad_h = pad_h;
  options.pad_w = pad_w;
  options.ceil_mode = ceil_mode;
  return options;
}

}  // namespace

TEST_CASE("forward: max_pool2d on hand-computed values", "[forward]") {
  SECTION("4x4, kernel 2, stride 2; the gradient goes to each window's maximum") {
    const Tensor x = Tensor::from_vector(std::vector<float>{1, 3, 2, 4, 5, 0, 7, 1, 2, 9, 1, 3, 4, 6, 8, 5}, {1, 1, 4, 4});
    const Tensor y = max_pool2d(x, Pool2dOptions::square(2, 2));
    CHECK(y.shape() == Shape{1, 1, 2, 2});
    CHECK(y.to_vector() == std::vector<float>{5, 7, 9, 8});
    CHECK(gradient_of_sum(x, [](const Tensor& t) { return max_pool2d(t, Pool2dOptions::square(2, 2)); }) ==
          std::vector<float>{0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0});
  }
  SECTION("padding counts as -inf, not 0") {
    const Tensor x = scale(counting({1, 1, 3, 3}), -1);  // -1 .. -9
    CHECK(max_pool2d(x, Pool2dOptions::square(3, 2, 1)).to_vector() == std::vector<float>{-1, -2, -4, -5});
  }
  SECTION("ties go to the first maximum; NaN wins") {
    const auto pool = [](const Tensor& t) { return max_pool2d(t, Pool2dOptions::square(2, 2)); };
    CHECK(gradient_of_sum(Tensor::ones({1, 1, 2, 2}), pool) == std::vector<float>{1, 0, 0, 0});
    CHECK(gradient_of_sum(Tensor::from_vector(std::vector<float>{0, 2, 2, 1}, {1, 1, 2, 2}), pool) ==
          std::vector<float>{0, 1, 0, 0});
    const float nan = std::numeric_limits<float>::quiet_NaN();
    CHECK(std::isnan(pool(Tensor::from_vector(std::vector<float>{1, nan, 3, 2}, {1, 1, 2, 2})).item()));
  }
  SECTION("2x2 windows (their own fast path) pick what a row-major scan picks, on ties, NaNs and odd sizes") {
    // Values from {0, 1, 2} and NaN: most windows hold ties, some one or two NaNs. The plain scan: the first maximum
    // wins, a NaN wins and the last NaN stays (PyTorch's rule).
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const std::int64_t planes = 6, height = 7, width = 9;  // the last row and column belong to no window
    std::vector<float> values(static_cast<std::size_t>(planes * height * width));
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = (i * 7919) % 23 == 0 ? nan : float((i * 31) % 3);
    const Tensor x = Tensor::from_vector(values, {2, 3, height, width});
    const auto pool = [](const Tensor& t) { return max_pool2d(t, Pool2dOptions::square(2, 2)); };
    std::vector<float> expected_y, expected_gradient(values.size(), 0.0f);
    for (std::int64_t p = 0; p < planes; ++p) {
      for (std::int64_t i = 0; i < height / 2; ++i) {
        for (std::int64_t j = 0; j < width / 2; ++j) {
          std::size_t winner = 0;
          float best = -std::numeric_limits<float>::infinity();
          bool first = true;
          for (std::int64_t h = 2 * i; h < 2 * i + 2; ++h) {
            for (std::int64_t w = 2 * j; w < 2 * j + 2; ++w) {
              const auto index = static_cast<std::size_t>((p * height + h) * width + w);
              if (first || values[index] > best || std::isnan(values[index])) {
                best = values[index];
                winner = index;
              }
              first = false;
            }
          }
          expected_y.push_back(best);
          expected_gradient[winner] += 1;
        }
      }
    }
    const std::vector<float> y = pool(x).to_vector();
    REQUIRE(y.size() == expected_y.size());
    for (std::size_t k = 0; k < y.size(); ++k) {
      INFO("output " << k);
      CHECK((y[k] == expected_y[k] || (std::isnan(y[k]) && std::isnan(expected_y[k]))));
    }
    CHECK(gradient_of_sum(x, pool) == expected_gradient);
  }
  SECTION("ceil_mode adds partial windows") {
    const Tensor x = counting({1, 1, 3, 3});
    CHECK(max_pool2d(x, Pool2dOptions::square(2, 2)).to_vector() == std::vector<float>{5});
    Pool2dOptions ceil = Pool2dOptions::square(2, 2);
    ceil.ceil_mode = true;
    const Tensor y = max_pool2d(x, ceil);
    CHECK(y.shape() == Shape{1, 1, 2, 2});
    CHECK(y.to_vector() == std::vector<float>{5, 6, 8, 9});
  }
  SECTION("ceil_mode drops a last window that would start in the right padding") {
    // Width 5, kernel 2, stride 2, padding 1: rounding up gives 4 windows, the 4th starting at 5, past the input.
    const Tensor x = counting({1, 1, 1, 5});
    const Tensor y = max_pool2d(x, rectangular(1, 2, 2, 0, 1, true));
    CHECK(y.shape() == Shape{1, 1, 1, 3});
    CHECK(y.to_vector() == std::vector<float>{1, 3, 5});
  }
}

TEST_CASE("forward: relu_max_pool2d is max_pool2d(relu(x)) bit for bit, values and gradients", "[forward]") {
  // Values from {-1, 0, 1, 2} and NaN, so that windows hold ties, only non-positive values, or NaNs (which relu
  // makes 0); and plain uniform values. Each geometry once: the 2x2 fast path (odd sizes, a row and column in no
  // window), fmnist-small's 3/3, overlapping windows with padding, and ceil_mode.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> tied(2 * 3 * 7 * 9);
  for (std::size_t i = 0; i < tied.size(); ++i) tied[i] = (i * 7919) % 23 == 0 ? nan : float((i * 31) % 4) - 1.0f;
  const Tensor tied_input = Tensor::from_vector(tied, {2, 3, 7, 9});
  const Tensor uniform_input = random_input({2, 3, 7, 9}, 31).to(DType::f32);
  for (const Pool2dOptions& options : {Pool2dOptions::square(2, 2), Pool2dOptions::square(3, 3),
                                       Pool2dOptions::square(3, 2, 1), rectangular(2, 3, 2, 1, 1, true)}) {
    for (const Tensor& x : {tied_input, uniform_input}) {
      INFO("kernel " << options.kernel_h << "x" << options.kernel_w << " stride " << options.stride_h << " pad "
                     << options.pad_h << "x" << options.pad_w << (options.ceil_mode ? " ceil" : ""));
      const auto fused = [&](const Tensor& t) { return relu_max_pool2d(t, options); };
      const auto composed = [&](const Tensor& t) { return max_pool2d(relu(t), options); };
      const Tensor y = fused(x);
      CHECK(y.to_vector() == composed(x).to_vector());  // no NaN can reach either output
      const Tensor dy = random_input(y.shape(), 32).to(DType::f32);  // the gradient of sum(pool(x) * dy)
      const auto weighted = [&](auto pool) { return [&, pool](const Tensor& t) { return mul(pool(t), dy); }; };
      CHECK(gradient_of_sum(x, weighted(fused)) == gradient_of_sum(x, weighted(composed)));
    }
  }
}

TEST_CASE("forward: avg_pool2d on hand-computed values", "[forward]") {
  const Tensor x = counting({1, 1, 3, 3});
  SECTION("padding, counted in the divisor or not, and divisor_override") {
    // Kernel 2, stride 2, padding 1 on 1..9: windows {1}, {2, 3}, {4, 7}, {5, 6, 8, 9}.
    Pool2dOptions options = Pool2dOptions::square(2, 2, 1);
    CHECK(avg_pool2d(x, options).to_vector() == std::vector<float>{0.25f, 1.25f, 2.75f, 7});
    CHECK(gradient_of_sum(x, [&](const Tensor& t) { return avg_pool2d(t, options); }) ==
          std::vector<float>(9, 0.25f));
    options.count_include_pad = false;
    CHECK(avg_pool2d(x, options).to_vector() == std::vector<float>{1, 2.5f, 5.5f, 7});
    CHECK(gradient_of_sum(x, [&](const Tensor& t) { return avg_pool2d(t, options); }) ==
          std::vector<float>{1, 0.5f, 0.5f, 0.5f, 0.25f, 0.25f, 0.5f, 0.25f, 0.25f});
    options.divisor_override = 2;
    CHECK(avg_pool2d(x, options).to_vector() == std::vector<float>{0.5f, 2.5f, 5.5f, 14});
  }
  SECTION("ceil_mode partial windows divide by their size inside the padded input") {
    Pool2dOptions ceil = Pool2dOptions::square(2, 2);
    ceil.ceil_mode = true;
    CHECK(avg_pool2d(x, ceil).to_vector() == std::vector<float>{3, 4.5f, 7.5f, 9});
    // Width 5, kernel 2, stride 2, padding 1: windows {pad, 1}, {2, 3}, {4, 5}.
    CHECK(avg_pool2d(counting({1, 1, 1, 5}), rectangular(1, 2, 2, 0, 1, true)).to_vector() ==
          std::vector<float>{0.5f, 2.5f, 4.5f});
  }
}

TEST_CASE("forward: adaptive and global pools on hand-computed values", "[forward]") {
  // x[h][w] = 5h + w; 5 -> 3 windows are [0, 2), [1, 4), [3, 5) along each axis.
  const Tensor x = counting({1, 1, 5, 5}, 0);
  const Tensor average = adaptive_avg_pool2d(x, 3, 3);
  CHECK(average.shape() == Shape{1, 1, 3, 3});
  CHECK(average.to_vector() == std::vector<float>{3, 4.5f, 6, 10.5f, 12, 13.5f, 18, 19.5f, 21});
  CHECK(adaptive_max_pool2d(x, 3, 3).to_vector() == std::vector<float>{6, 8, 9, 16, 18, 19, 21, 23, 24});
  CHECK(adaptive_max_pool2d(x, 1, 3).to_vector() == std::vector<float>{21, 23, 24});

  const Tensor global = global_avg_pool2d(counting({2, 2, 1, 2}));
  CHECK(global.shape() == Shape{2, 2});
  CHECK(global.to_vector() == std::vector<float>{1.5f, 3.5f, 5.5f, 7.5f});
}

TEST_CASE("errors: pooling arguments are checked", "[errors]") {
  const Tensor x = Tensor::ones({1, 1, 2, 2});
  CHECK_THROWS_WITH(max_pool2d(x, Pool2dOptions::square(3, 1)),
                    Catch::Contains("max_pool2d") && Catch::Contains("larger than the padded input 2x2") &&
                        Catch::Contains("[1, 1, 2, 2]"));
  CHECK_THROWS_WITH(avg_pool2d(Tensor::ones({1, 1, 4, 4}), Pool2dOptions::square(2, 2, 2)),
                    Catch::Contains("avg_pool2d") && Catch::Contains("padding 2x2") &&
                        Catch::Contains("[1, 1, 4, 4]"));
  CHECK_THROWS_WITH(max_pool2d(x, Pool2dOptions::square(2, 0)),
                    Catch::Contains("max_pool2d") && Catch::Contains("stride 0x0"));
  CHECK_THROWS_WITH(max_pool2d(Tensor::ones({2, 2, 2}), Pool2dOptions::square(2, 2)),
                    Catch::Contains("max_pool2d") && Catch::Contains("[2, 2, 2]"));
  CHECK_THROWS_WITH(max_pool2d(Tensor::zeros({1, 1, 2, 2}, DType::i32), Pool2dOptions::square(2, 2)),
                    Catch::Contains("max_pool2d") && Catch::Contains("float32 or float64"));
  CHECK_THROWS_WITH(adaptive_avg_pool2d(x, 0, 2), Catch::Contains("adaptive_avg_pool2d") &&
                                                      Catch::Contains("output size 0x2") &&
                                                      Catch::Contains("[1, 1, 2, 2]"));
  CHECK_THROWS_WITH(adaptive_max_pool2d(Tensor::ones({1, 1, 0, 2}), 1, 1),
                    Catch::Contains("adaptive_max_pool2d") && Catch::Contains("[1, 1, 0, 2]"));
  CHECK_THROWS_WITH(global_avg_pool2d(Tensor::ones({2, 3})),
                    Catch::Contains("global_avg_pool2d") && Catch::Contains("[2, 3]"));
}

TEST_CASE("gradcheck: max_pool2d", "[gradcheck]") {
  const Tensor x = distinct_input({2, 2, 5, 7}, 21);
  check_gradients([](auto& in) { return max_pool2d(in[0], Pool2dOptions::square(3, 2, 1)); }, {x});
  check_gradients([](auto& in) { return max_pool2d(in[0], rectangular(2, 3, 2, 1, 1, true)); }, {x});
}

TEST_CASE("gradcheck: relu_max_pool2d", "[gradcheck]") {
  // Half the values are negative, so some windows pass no gradient at all.
  const Tensor x = distinct_input({2, 2, 6, 7}, 26);
  check_gradients([](auto& in) { return relu_max_pool2d(in[0], Pool2dOptions::square(2, 2)); }, {x});
  check_gradients([](auto& in) { return relu_max_pool2d(in[0], Pool2dOptions::square(3, 2, 1)); }, {x});
}

TEST_CASE("gradcheck: avg_pool2d", "[gradcheck]") {
  const Tensor x = random_input({2, 2, 5, 7}, 22);
  check_gradients([](auto& in) { return avg_pool2d(in[0], Pool2dOptions::square(3, 2, 1)); }, {x});
  Pool2dOptions options = rectangular(2, 3, 2, 1, 1, true);
  options.count_include_pad = false;
  check_gradients([&](auto& in) { return avg_pool2d(in[0], options); }, {x});
  options.divisor_override = 5;
  check_gradients([&](auto& in) { return avg_pool2d(in[0], options); }, {x});
}

TEST_CASE("gradcheck: adaptive_max_pool2d", "[gradcheck]") {
  const Tensor x = distinct_input({2, 2, 5, 7}, 23);
  check_gradients([](auto& in) { return adaptive_max_pool2d(in[0], 3, 4); }, {x});
  check_gradients([](auto& in) { return adaptive_max_pool2d(in[0], 7, 9); }, {x});
}

TEST_CASE("gradcheck: adaptive_avg_pool2d", "[gradcheck]") {
  const Tensor x = random_input({2, 2, 5, 7}, 24);
  check_gradients([](auto& in) { return adaptive_avg_pool2d(in[0], 3, 4); }, {x});
  check_gradients([](auto& in) { return adaptive_avg_pool2d(in[0], 7, 9); }, {x});
}

TEST_CASE("gradcheck: global_avg_pool2d", "[gradcheck]") {
  check_gradients([](auto& in) { return global_avg_pool2d(in[0]); }, {random_input({2, 3, 5, 7}, 25)});
}
