#include <catch2/catch.hpp>

#include "kiln/kiln.h"
#include "tests/cuda/op_cases.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::check_parity;
using kiln::testing::parity_input;

namespace {

void check_conv_transpose2d(const std::string& name, const Shape& x, const Shape& weight, bool bias,
                            const ConvTranspose2dOptions& options) {
  check_parity(
      "conv_transpose2d " + name, [&](auto& in) { return conv_transpose2d(in[0], in[1], in[2], options); },
      {parity_input(x, 4), parity_input(weight, 5), bias ? parity_input({weight[1]}, 6) : Tensor()});
}

}  // namespace

TEST_CASE("parity native: conv2d", "[parity]") { testing::conv2d_parity_cases(); }

// On CUDA the fused op runs conv2d, then relu_max_pool2d: the CPU's fused kernels against those.
TEST_CASE("parity native: conv2d_relu_max_pool2d", "[parity]") {
  check_parity(
      "conv2d_relu_max_pool2d 1->8 3x3 on 28x28, pool 2/2",
      [](auto& in) { return conv2d_relu_max_pool2d(in[0], in[1], in[2], {}, Pool2dOptions::square(2, 2)); },
      {parity_input({5, 1, 28, 28}, 7), parity_input({8, 1, 3, 3}, 8), parity_input({8}, 9)});
  check_parity(
      "conv2d_relu_max_pool2d 3->4 3x3 stride 2 pad 1, pool 3/3, no bias",
      [](auto& in) {
        return conv2d_relu_max_pool2d(in[0], in[1], in[2], Conv2dOptions::square(2, 1), Pool2dOptions::square(3, 3));
      },
      {parity_input({2, 3, 13, 12}, 10), parity_input({4, 3, 3, 3}, 11), Tensor()});
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
