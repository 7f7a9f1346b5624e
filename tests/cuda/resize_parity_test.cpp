#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "kiln/kiln.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::check_parity;
using kiln::testing::parity_input;

TEST_CASE("parity native: resize_bilinear", "[parity]") {
  struct Case {
    Shape shape;
    std::int64_t out_h, out_w;
  };
  // Up, down, mixed, output size 1 and input size 1, batch 1 and 2, odd sizes.
  const std::vector<Case> cases = {{{1, 2, 5, 7}, 11, 13}, {{2, 3, 9, 11}, 4, 5}, {{2, 1, 6, 5}, 1, 1},
                                   {{1, 2, 7, 4}, 3, 9},   {{2, 2, 1, 5}, 4, 1}};
  std::uint64_t seed = 1;
  for (const ResizeMode mode : {ResizeMode::align_corners, ResizeMode::half_pixel, ResizeMode::tf1_legacy}) {
    for (const Case& c : cases) {
      const std::string name = "resize_bilinear mode " + std::to_string(static_cast<int>(mode)) + " " +
                               shape_str(c.shape) + " -> " + std::to_string(c.out_h) + "x" + std::to_string(c.out_w);
      check_parity(name, [c, mode](auto& in) { return resize_bilinear(in[0], c.out_h, c.out_w, mode); },
                   {parity_input(c.shape, seed++)});
    }
  }
}
