#include <catch2/catch.hpp>
#include <numeric>

#include "kernels/parallel.h"
#include "kiln/kiln.h"
#include "tests/support/gradcheck.h"

using namespace kiln;
using kiln::testing::check_gradients;
using kiln::testing::random_input;

namespace {

// 0, 1, 2, ... in `shape`.
Tensor ramp(const Shape& shape) {
  std::vector<float> values(static_cast<std::size_t>(shape_numel(shape)));
  std::iota(values.begin(), values.end(), 0.0f);
  return Tensor::from_vector(values, shape);
}

// The permutation by index arithmetic alone: out[o] = x[sum of o's coordinate i times the stride of input dim
// dims[i]].
std::vector<double> reference_permute(const Tensor& x, const std::vector<std::int64_t>& dims) {
  const std::vector<double> in = x.to_vector_f64();
  const Shape& shape = x.shape();
  std::vector<std::int64_t> strides(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  std::vector<double> out(in.size());
  for (std::size_t o = 0; o < out.size(); ++o) {
    auto rest = static_cast<std::int64_t>(o);
    std::int64_t offset = 0;
    for (std::size_t i = dims.size(); i-- > 0;) {
      const auto d = static_cast<std::size_t>(dims[i]);
      offset += rest % shape[d] * strides[d];
      rest /= shape[d];
    }
    out[o] = in[static_cast<std::size_t>(offset)];
  }
  return out;
}

void check_against_reference(const Tensor& x, const std::vector<std::int64_t>& dims) {
  const Tensor y = permute(x, dims);
  Shape expected_shape;
  for (const std::int64_t d : dims) expected_shape.push_back(x.size(d));
  CHECK(y.shape() == expected_shape);
  CHECK(y.dtype() == x.dtype());
  CHECK(y.to_vector_f64() == reference_permute(x, dims));
}

}  // namespace

TEST_CASE("forward: permute on hand-computed values", "[forward][permute]") {
  // A transpose: [[0, 1, 2], [3, 4, 5]] -> [[0, 3], [1, 4], [2, 5]].
  Tensor x = ramp({2, 3});
  x.set_requires_grad(true);
  const Tensor y = permute(x, {1, 0});
  CHECK(y.shape() == Shape{3, 2});
  CHECK(y.to_vector() == std::vector<float>{0, 3, 1, 4, 2, 5});
  // The gradient comes back through the inverse permutation: dx[i, j] = w[j, i].
  const Tensor weights = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2});
  sum(mul(y, weights)).backward();
  CHECK(x.grad().shape() == Shape{2, 3});
  CHECK(x.grad().to_vector() == std::vector<float>{1, 3, 5, 2, 4, 6});

  // Reversing [2, 2, 2]: y[a, b, c] = x[c, b, a] = 4c + 2b + a.
  CHECK(permute(ramp({2, 2, 2}), {2, 1, 0}).to_vector() == std::vector<float>{0, 4, 2, 6, 1, 5, 3, 7});
  // NCHW -> NHWC on [1, 2, 2, 2]: element (h, w, c) = x[c, h, w] = 4c + 2h + w.
  const Tensor nhwc = permute(ramp({1, 2, 2, 2}), {0, 2, 3, 1});
  CHECK(nhwc.shape() == Shape{1, 2, 2, 2});
  CHECK(nhwc.to_vector() == std::vector<float>{0, 4, 1, 5, 2, 6, 3, 7});
  // A cycle of a non-cubic shape: y[k, i, j] = x[i, j, k] on [2, 3, 4], y of shape [4, 2, 3].
  const Tensor cycled = permute(ramp({2, 3, 4}), {2, 0, 1});
  CHECK(cycled.shape() == Shape{4, 2, 3});
  CHECK(cycled.to_vector() ==
        std::vector<float>{0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23});
}

TEST_CASE("forward: permute's dims, dtypes and edge cases", "[forward][permute]") {
  // Negative dims count from the end, as in PyTorch.
  CHECK(permute(ramp({2, 3, 4}), {-1, 0, -2}).to_vector() == permute(ramp({2, 3, 4}), {2, 0, 1}).to_vector());
  // The identity is a copy with its own storage.
  const Tensor x = ramp({2, 3});
  const Tensor same = permute(x, {0, 1});
  CHECK(same.to_vector() == x.to_vector());
  CHECK(same.raw_data() != x.raw_data());
  // Size-1 dims move freely; a std::vector of dims works too.
  check_against_reference(ramp({3, 1, 4}), std::vector<std::int64_t>{1, 2, 0});
  // float64 and int32.
  check_against_reference(random_input({2, 3, 4}, 5).detach(), {1, 2, 0});
  const Tensor labels = Tensor::from_vector(std::vector<std::int32_t>{1, 2, 3, 4, 5, 6}, {3, 2});
  const Tensor transposed = permute(labels, {1, 0});
  CHECK(transposed.dtype() == DType::i32);
  CHECK(transposed.to_vector() == std::vector<float>{1, 3, 5, 2, 4, 6});
  // No elements, and a scalar.
  const Tensor empty = permute(Tensor::zeros({0, 3}), {1, 0});
  CHECK(empty.shape() == Shape{3, 0});
  CHECK(permute(Tensor::scalar(7), std::vector<std::int64_t>{}).item() == 7);
}

TEST_CASE("forward: permute of every rank up to 8, threaded", "[forward][permute]") {
  check_against_reference(ramp({5}), {0});
  check_against_reference(ramp({2, 3, 4, 5}), {3, 1, 0, 2});
  check_against_reference(ramp({2, 3, 2, 2, 3}), {4, 2, 0, 3, 1});
  check_against_reference(ramp({2, 1, 3, 2, 1, 2}), {5, 0, 3, 1, 4, 2});
  check_against_reference(ramp({2, 2, 1, 3, 2, 2, 2}), {6, 4, 2, 0, 1, 3, 5});
  check_against_reference(ramp({2, 1, 3, 1, 2, 2, 1, 2}), {7, 6, 5, 4, 3, 2, 1, 0});
  check_against_reference(ramp({2, 2, 2, 2, 2, 2, 2, 2}), {1, 0, 3, 2, 5, 4, 7, 6});
  // Large enough to split over threads; the result must not depend on their number.
  const Tensor large = ramp({64, 33, 40});
  const int saved_threads = kernels::num_threads();
  for (const int threads : {1, 3}) {
    INFO(threads << " threads");
    kernels::set_num_threads(threads);
    check_against_reference(large, {2, 0, 1});
    check_against_reference(large, {1, 2, 0});
  }
  kernels::set_num_threads(saved_threads);
}

TEST_CASE("errors: permute's dims are checked", "[errors][permute]") {
  using Catch::Contains;
  const Tensor x = Tensor::ones({2, 3, 4});
  CHECK_THROWS_WITH(permute(x, {0, 1}), Contains("permute") && Contains("(0, 1)") && Contains("[2, 3, 4]"));
  CHECK_THROWS_WITH(permute(x, {0, 1, 2, 3}), Contains("permute") && Contains("[2, 3, 4]") && Contains("has 3"));
  CHECK_THROWS_WITH(permute(x, {0, 1, 1}), Contains("permute") && Contains("repeat dim 1") && Contains("[2, 3, 4]"));
  CHECK_THROWS_WITH(permute(x, {0, -2, 1}), Contains("permute") && Contains("repeat dim 1"));
  CHECK_THROWS_WITH(permute(x, {0, 1, 3}),
                    Contains("permute") && Contains("dim 3") && Contains("out of range") && Contains("[2, 3, 4]"));
  CHECK_THROWS_WITH(permute(x, {-4, 1, 2}), Contains("permute") && Contains("dim -4") && Contains("out of range"));
  CHECK_THROWS_WITH(permute(Tensor(), {}), Contains("permute") && Contains("undefined"));
}

TEST_CASE("gradcheck: permute", "[gradcheck][permute]") {
  check_gradients([](auto& in) { return permute(in[0], {1, 0}); }, {random_input({3, 4}, 51)});
  check_gradients([](auto& in) { return permute(in[0], {2, 0, 1}); }, {random_input({2, 3, 4}, 52)});
  check_gradients([](auto& in) { return permute(in[0], {0, 2, 3, 1}); }, {random_input({2, 3, 2, 4}, 53)});
  check_gradients([](auto& in) { return permute(in[0], {4, 1, 3, 0, 2}); }, {random_input({2, 1, 3, 2, 2}, 54)});
}
