#include <catch2/catch.hpp>

#include "kiln/kiln.h"
#include "tests/support/gradcheck.h"

using namespace kiln;
using kiln::testing::check_gradients;
using kiln::testing::random_input;

TEST_CASE("forward: concat_channels on hand-computed values", "[forward]") {
  const Tensor a = Tensor::from_vector(std::vector<float>{1, 2}, {1, 1, 2});
  const Tensor b = Tensor::from_vector(std::vector<float>{3, 4, 5, 6}, {1, 2, 2});
  const Tensor joined = concat_channels({a, b});
  CHECK(joined.shape() == Shape{1, 3, 2});
  CHECK(joined.to_vector() == std::vector<float>{1, 2, 3, 4, 5, 6});

  // With a batch of 2 every sample's channels are joined separately.
  Tensor c = Tensor::from_vector(std::vector<float>{1, 2, 3, 4}, {2, 1, 2});
  const Tensor d = Tensor::from_vector(std::vector<float>{5, 6, 7, 8, 9, 10, 11, 12}, {2, 2, 2});
  c.set_requires_grad(true);
  const Tensor batched = concat_channels({c, d});
  CHECK(batched.shape() == Shape{2, 3, 2});
  CHECK(batched.to_vector() == std::vector<float>{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12});

  // Backward hands each input its own channels of the gradient (d needs none).
  const Tensor weights = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 3, 2});
  sum(mul(batched, weights)).backward();
  CHECK(c.grad().to_vector() == std::vector<float>{1, 2, 7, 8});
  CHECK_FALSE(d.grad().defined());
}

TEST_CASE("errors: concat_channels shapes are checked", "[errors]") {
  const Tensor a = Tensor::ones({1, 1, 2});
  CHECK_THROWS_WITH(concat_channels({a, Tensor::ones({2, 1, 2})}), Catch::Contains("concat_channels") &&
                                                                       Catch::Contains("[2, 1, 2]") &&
                                                                       Catch::Contains("[1, 1, 2]"));
  CHECK_THROWS_WITH(concat_channels({a, Tensor::ones({1, 3, 3})}),
                    Catch::Contains("concat_channels") && Catch::Contains("[1, 3, 3]"));
  CHECK_THROWS_WITH(concat_channels({a, Tensor::ones({1, 1, 2, 1})}),
                    Catch::Contains("concat_channels") && Catch::Contains("[1, 1, 2, 1]"));
  CHECK_THROWS_WITH(concat_channels({Tensor::ones({3})}),
                    Catch::Contains("concat_channels") && Catch::Contains("[3]"));
  CHECK_THROWS_WITH(concat_channels({}), Catch::Contains("concat_channels") && Catch::Contains("no inputs"));
  CHECK_THROWS_WITH(concat_channels({a, Tensor::ones({1, 1, 2}, DType::f64)}),
                    Catch::Contains("concat_channels") && Catch::Contains("float64"));
}

TEST_CASE("gradcheck: concat_channels", "[gradcheck]") {
  check_gradients([](auto& in) { return concat_channels({in[0], in[1], in[2]}); },
                  {random_input({2, 1, 3, 5}, 41), random_input({2, 2, 3, 5}, 42), random_input({2, 3, 3, 5}, 43)});
  check_gradients([](auto& in) { return concat_channels({in[0], in[1]}); },
                  {random_input({3, 2, 5}, 44), random_input({3, 1, 5}, 45)});
}
