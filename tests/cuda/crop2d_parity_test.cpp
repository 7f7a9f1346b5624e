#include <catch2/catch.hpp>

#include "kiln/kiln.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::check_parity;
using kiln::testing::parity_input;

TEST_CASE("parity native: crop2d", "[parity][crop]") {
  const auto cropped = [](std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width) {
    return [=](auto& in) { return crop2d(in[0], top, left, height, width); };
  };
  check_parity("crop2d inside", cropped(1, 2, 3, 4), {parity_input({2, 3, 6, 7}, 1)});
  check_parity("crop2d FCN offset 5", cropped(5, 5, 16, 17), {parity_input({1, 4, 26, 27}, 2)});
  check_parity("crop2d FCN offset 31", cropped(31, 31, 8, 9), {parity_input({2, 2, 40, 41}, 3)});
  check_parity("crop2d corner element", cropped(4, 6, 1, 1), {parity_input({1, 2, 5, 7}, 4)});
  check_parity("crop2d whole input", cropped(0, 0, 5, 6), {parity_input({2, 3, 5, 6}, 5)});
}
