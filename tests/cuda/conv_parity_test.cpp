#include <catch2/catch.hpp>

#include "kiln/kiln.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::check_parity;
using kiln::testing::parity_input;

namespace {

void check_conv2d(const std::string& name, const Shape& x, const Shape& weight, bool bias,
                  const Conv2dOptions& options) {
  check_parity(
      "conv2d " + name, [&](auto& in) { return conv2d(in[0], in[1], in[2], options); },
      {parity_input(x, 1), parity_input(weight, 2), bias ? parity_input({weight[0]}, 3) : Tensor()});
}

void check_conv_transpose2d(const std::string& name, const Shape& x, const Shape& weight, bool bias,
                            const ConvTranspose2dOptions& options) {
  check_parity(
      "conv_transpose2d " + name, [&](auto& in) { return conv_transpose2d(in[0], in[1], in[2], options); },
      {parity_input(x, 4), parity_input(weight, 5), bias ? parity_input({weight[1]}, 6) : Tensor()});
}

}  // namespace

TEST_CASE("parity native: conv2d", "[parity]") {
  check_conv2d("3x3 same, batch 1", {1, 3, 9, 11}, {5, 3, 3, 3}, true, Conv2dOptions::square(1, 1));
  check_conv2d("3x5 stride 2, padding (1, 2)", {3, 4, 11, 13}, {7, 4, 3, 5}, false, {2, 2, 1, 2});
  check_conv2d("4x3 stride (2, 3), padding (0, 1)", {2, 3, 10, 12}, {4, 3, 4, 3}, true, {2, 3, 0, 1});
  check_conv2d("1x1", {3, 6, 7, 5}, {9, 6, 1, 1}, true, {});
  check_conv2d("1x1 stride 2 (taps skip pixels)", {3, 6, 7, 5}, {9, 6, 1, 1}, false, Conv2dOptions::square(2, 0));
  check_conv2d("70 output channels (two row tiles)", {1, 3, 6, 6}, {70, 3, 3, 3}, true, Conv2dOptions::square(1, 1));
  check_conv2d("66 input channels (two backward-data row tiles)", {1, 66, 5, 5}, {2, 66, 3, 3}, false,
               Conv2dOptions::square(1, 1));
  // 429 output pixels: the weight gradient is summed over two chunks.
  check_conv2d("weight gradient in chunks", {3, 2, 11, 13}, {3, 2, 3, 3}, true, Conv2dOptions::square(1, 1));
}

TEST_CASE("parity native: conv_transpose2d", "[parity]") {
  check_conv_transpose2d("3x3 stride 2, padding 1, output padding 1", {2, 3, 5, 6}, {3, 4, 3, 3}, true,
                         ConvTranspose2dOptions::square(2, 1, 1));
  check_conv_transpose2d("4x4 stride 2, padding 1, batch 1", {1, 5, 4, 3}, {5, 2, 4, 4}, false,
                         ConvTranspose2dOptions::square(2, 1));
  check_conv_transpose2d("3x3 stride 1", {3, 2, 5, 5}, {2, 3, 3, 3}, true, {});
  check_conv_transpose2d("2x3 stride (3, 2), padding (1, 0), output padding (2, 1)", {2, 3, 4, 5}, {3, 2, 2, 3},
                         false, {3, 2, 1, 0, 2, 1});
}
