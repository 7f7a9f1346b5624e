#pragma once
// Small value comparisons shared by the op tests.
#include <catch2/catch.hpp>
#include <vector>

namespace kiln::testing {

// Elementwise within 1e-6 of hand-computed expectations.
inline void check_close(const std::vector<float>& actual, const std::vector<double>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) CHECK(actual[i] == Approx(expected[i]).margin(1e-6));
}

}  // namespace kiln::testing
