#include <catch2/catch.hpp>

#include "kiln/kiln.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::check_parity;
using kiln::testing::parity_input;

TEST_CASE("parity native: concat_channels", "[parity]") {
  const auto concat = [](auto& in) { return concat_channels(in); };
  check_parity("concat_channels NCHW", concat,
               {parity_input({2, 3, 5, 7}, 1), parity_input({2, 1, 5, 7}, 2), parity_input({2, 4, 5, 7}, 3)});
  check_parity("concat_channels batch 1, one part", concat, {parity_input({1, 3, 3, 5}, 4)});
  check_parity("concat_channels [N, C]", concat, {parity_input({3, 5}, 5), parity_input({3, 2}, 6)});
  // The middle part needs no gradient: the backward skips it.
  check_parity("concat_channels without one gradient", concat,
               {parity_input({2, 2, 3, 3}, 7), parity_input({2, 3, 3, 3}, 8).detach(), parity_input({2, 1, 3, 3}, 9)});
}
