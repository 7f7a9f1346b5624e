#include "kiln/shape.h"

#include "kiln/error.h"

namespace kiln {

void Shape::rank_too_large(std::size_t rank) {
  fail("a tensor shape has at most ", max_rank, " dimensions; ", rank, " were asked for");
}

std::int64_t shape_numel(const Shape& shape) {
  std::int64_t count = 1;
  for (const std::int64_t size : shape) {
    KILN_CHECK(size >= 0, "negative dimension in shape ", shape_str(shape));
    count *= size;
  }
  return count;
}

std::string shape_str(const Shape& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

}  // namespace kiln
