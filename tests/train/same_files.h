#pragma once
// Comparing two runs' checkpoints tensor by tensor, byte for byte (the resume tests).
#include <string>

namespace kiln::test {

void require_bit_identical(const std::string& path_a, const std::string& path_b);

}  // namespace kiln::test
