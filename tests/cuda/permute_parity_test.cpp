#include <catch2/catch.hpp>

#include "kiln/kiln.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::check_parity;
using kiln::testing::parity_input;

TEST_CASE("parity native: permute", "[parity][permute]") {
  const auto permuted = [](std::vector<std::int64_t> dims) {
    return [dims](auto& in) { return permute(in[0], dims); };
  };
  check_parity("permute NCHW -> NHWC", permuted({0, 2, 3, 1}), {parity_input({2, 16, 5, 7}, 1)});
  check_parity("permute NHWC -> NCHW", permuted({0, 3, 1, 2}), {parity_input({2, 5, 7, 16}, 2)});
  check_parity("permute transpose", permuted({1, 0}), {parity_input({33, 70}, 3)});
  check_parity("permute identity", permuted({0, 1, 2}), {parity_input({3, 4, 5}, 4)});
  check_parity("permute rank 6 with size-1 dims", permuted({5, 2, 0, 4, 1, 3}), {parity_input({2, 1, 3, 4, 1, 5}, 5)});
  check_parity("permute rank 8 reversed", permuted({7, 6, 5, 4, 3, 2, 1, 0}),
               {parity_input({2, 3, 1, 2, 2, 3, 1, 2}, 6)});
}
