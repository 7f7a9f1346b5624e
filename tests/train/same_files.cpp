#include "tests/train/same_files.h"

#include <catch2/catch.hpp>
#include <cstring>

#include "kiln/safetensors.h"

namespace kiln::test {

void require_bit_identical(const std::string& path_a, const std::string& path_b) {
  const SafetensorsFile a = load_safetensors(path_a), b = load_safetensors(path_b);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    INFO(path_a << ": tensor " << a.tensors[i].first);
    REQUIRE(a.tensors[i].first == b.tensors[i].first);
    const Tensor& x = a.tensors[i].second;
    const Tensor& y = b.tensors[i].second;
    REQUIRE(x.shape() == y.shape());
    REQUIRE(x.dtype() == y.dtype());
    CHECK(std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0);
  }
}

}  // namespace kiln::test
