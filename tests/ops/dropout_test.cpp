#include <catch2/catch.hpp>

#include "kernels/philox.h"
#include "kiln/kiln.h"
#include "tests/support/gradcheck.h"

using namespace kiln;
using kiln::testing::check_gradients;
using kiln::testing::random_input;

TEST_CASE("forward: dropout p=0.5 zeroes about half and doubles the rest, reproducibly", "[forward]") {
  const std::int64_t n = 10000;
  const Tensor x = Tensor::ones({n});
  Generator generator(7);
  const std::vector<float> y = dropout(x, 0.5, true, generator).to_vector();
  std::int64_t zeros = 0;
  for (const float value : y) {
    CHECK((value == 0.0f || value == 2.0f));
    zeros += value == 0.0f ? 1 : 0;
  }
  CHECK(zeros > 4700);
  CHECK(zeros < 5300);
  CHECK(generator.state().offset == static_cast<std::uint64_t>(n));
  Generator same_seed(7);
  CHECK(dropout(x, 0.5, true, same_seed).to_vector() == y);
  // The next draw reads fresh counters, so its mask differs.
  CHECK(dropout(x, 0.5, true, generator).to_vector() != y);
}

TEST_CASE("forward: dropout outside training or with p=0 is the identity", "[forward]") {
  Tensor x = Tensor::from_vector(std::vector<float>{1, -2, 3}, {3});
  x.set_requires_grad(true);
  Generator generator(3);
  CHECK(dropout(x, 0.5, false, generator).same(x));
  CHECK(dropout(x, 0.0, true, generator).same(x));
  CHECK(generator.state().offset == 0);
}

TEST_CASE("forward: dropout's mask is philox_uniform(seed, offset + i) >= p", "[forward]") {
  const std::uint64_t seed = 1234, offset = 99;
  const double p = 0.3;
  std::vector<double> values(257);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i) + 1;
  const Tensor x = Tensor::from_vector(values, {257});
  Generator generator(seed);
  generator.set_state({seed, offset});
  const std::vector<double> y = dropout(x, p, true, generator).to_vector_f64();
  std::size_t kept = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const bool keep = kernels::philox_uniform(seed, offset + i) >= p;
    CHECK(y[i] == Approx(keep ? values[i] / (1 - p) : 0.0));
    kept += keep ? 1 : 0;
  }
  CHECK(kept > 0);
  CHECK(kept < values.size());
}

TEST_CASE("forward: dropout rejects p outside 0 <= p < 1", "[forward]") {
  const Tensor x = Tensor::ones({2, 3});
  Generator generator(1);
  CHECK_THROWS_WITH(dropout(x, 1.0, true, generator), Catch::Contains("dropout") && Catch::Contains("[0, 1)") &&
                                                          Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(dropout(x, -0.1, false, generator), Catch::Contains("dropout") && Catch::Contains("-0.1"));
}

TEST_CASE("gradcheck: dropout", "[gradcheck]") {
  check_gradients(
      [](auto& in) {
        Generator generator(5);  // the same mask on every call
        return dropout(in[0], 0.4, true, generator);
      },
      {random_input({3, 5, 7}, 31)});
}
