#include <catch2/catch.hpp>

#include "tests/cuda/op_cases.h"

TEST_CASE("parity native: one training step of fmnist-bn", "[parity]") { kiln::testing::training_step_parity(); }
