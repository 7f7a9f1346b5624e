#pragma once
// Tensor shapes: dimension sizes, outermost first (NCHW for images).
#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

using Shape = std::vector<std::int64_t>;

std::int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[2, 3, 5]"

}  // namespace kiln
