#include <catch2/catch.hpp>

#include "tests/cuda/op_cases.h"

TEST_CASE("parity native: batch_norm", "[parity]") { kiln::testing::batch_norm_parity_cases(); }
