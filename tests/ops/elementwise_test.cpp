#include <catch2/catch.hpp>

#include "kiln/kiln.h"
#include "tests/support/gradcheck.h"

using namespace kiln;
using kiln::testing::check_gradients;
using kiln::testing::random_input;

TEST_CASE("forward: elementwise ops on hand-computed values", "[forward]") {
  const Tensor x = Tensor::from_vector(std::vector<float>{-1, 0.5f, 3, 7}, {4});
  const Tensor y = Tensor::from_vector(std::vector<float>{2, 2, -1, 0}, {4});
  CHECK(add(x, y).to_vector() == std::vector<float>{1, 2.5f, 2, 7});
  CHECK(mul(x, y).to_vector() == std::vector<float>{-2, 1, -3, 0});
  CHECK(scale(x, -2).to_vector() == std::vector<float>{2, -1, -6, -14});
  CHECK(relu(x).to_vector() == std::vector<float>{0, 0.5f, 3, 7});
  CHECK(relu6(x).to_vector() == std::vector<float>{0, 0.5f, 3, 6});
  const Tensor image = Tensor::ones({2, 3, 2, 1});
  const Tensor bias = Tensor::from_vector(std::vector<float>{1, 2, 3}, {3});
  CHECK(bias_add(image, bias).to_vector() == std::vector<float>{2, 2, 3, 3, 4, 4, 2, 2, 3, 3, 4, 4});
  CHECK(sum(x).item() == 9.5);
  CHECK(mean(x).item() == 9.5 / 4);
  CHECK_THROWS_WITH(add(x, Tensor::ones({5})), Catch::Contains("add") && Catch::Contains("[4]") && Catch::Contains("[5]"));
  CHECK_THROWS_WITH(bias_add(image, Tensor::ones({2})), Catch::Contains("bias_add"));
}

TEST_CASE("gradcheck: add", "[gradcheck]") {
  check_gradients([](auto& in) { return add(in[0], in[1]); }, {random_input({3, 5}, 1), random_input({3, 5}, 2)});
}
TEST_CASE("gradcheck: mul", "[gradcheck]") {
  check_gradients([](auto& in) { return mul(in[0], in[1]); }, {random_input({7}, 3), random_input({7}, 4)});
}
TEST_CASE("gradcheck: scale", "[gradcheck]") {
  check_gradients([](auto& in) { return scale(in[0], -1.7); }, {random_input({2, 3, 3}, 5)});
}
TEST_CASE("gradcheck: relu", "[gradcheck]") {
  // Values stay clear of the kink at 0 so central differences are exact.
  Tensor x = random_input({5, 3}, 6, 0.1, 1.0);
  { NoGradGuard guard; double* v = x.data<double>(); for (int i = 0; i < 15; i += 2) v[i] = -v[i]; }
  check_gradients([](auto& in) { return relu(in[0]); }, {x});
}
TEST_CASE("gradcheck: relu6", "[gradcheck]") {
  Tensor x = random_input({13}, 7, 0.1, 5.9);
  { double* v = x.data<double>(); v[0] = -0.5; v[1] = 6.5; v[2] = 8.0; }
  check_gradients([](auto& in) { return relu6(in[0]); }, {x});
}
TEST_CASE("gradcheck: bias_add", "[gradcheck]") {
  check_gradients([](auto& in) { return bias_add(in[0], in[1]); }, {random_input({2, 3, 3, 5}, 8), random_input({3}, 9)});
}
TEST_CASE("gradcheck: sum and mean", "[gradcheck]") {
  check_gradients([](auto& in) { return sum(in[0]); }, {random_input({3, 7}, 10)});
  check_gradients([](auto& in) { return mean(in[0]); }, {random_input({3, 7}, 11)});
}
