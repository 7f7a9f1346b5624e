#include <catch2/catch.hpp>

#include "kiln/kiln.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::check_parity;
using kiln::testing::parity_input;

TEST_CASE("parity native: add, mul, scale", "[parity]") {
  const auto a = parity_input({3, 5, 7}, 1), b = parity_input({3, 5, 7}, 2);
  check_parity("add", [](auto& in) { return add(in[0], in[1]); }, {a, b});
  check_parity("mul", [](auto& in) { return mul(in[0], in[1]); }, {a, b});
  check_parity("scale", [](auto& in) { return scale(in[0], -2.5); }, {a});
}

TEST_CASE("parity native: relu, relu6", "[parity]") {
  const auto x = parity_input({2, 3, 9, 11}, 3, -2.0, 8.0);
  check_parity("relu", [](auto& in) { return relu(in[0]); }, {x});
  check_parity("relu6", [](auto& in) { return relu6(in[0]); }, {x});
}

TEST_CASE("parity native: bias_add", "[parity]") {
  check_parity("bias_add", [](auto& in) { return bias_add(in[0], in[1]); },
               {parity_input({1, 3, 5, 7}, 4), parity_input({3}, 5)});
  check_parity("bias_add [N, C]", [](auto& in) { return bias_add(in[0], in[1]); },
               {parity_input({5, 300}, 6), parity_input({300}, 7)});
}

TEST_CASE("parity native: sum and mean", "[parity]") {
  check_parity("sum", [](auto& in) { return sum(in[0]); }, {parity_input({100003}, 8)});
  check_parity("mean", [](auto& in) { return mean(in[0]); }, {parity_input({7, 13}, 9)});
}

TEST_CASE("cuda runtime: copies round-trip and the caching allocator reuses blocks", "[parity]") {
  const Tensor host = Tensor::uniform({1000}, -1, 1, default_generator());
  const Tensor device = host.to(Device::cuda(0));
  CHECK(device.device() == Device::cuda(0));
  CHECK(device.cpu().to_vector() == host.to_vector());
  CHECK(Tensor::full({7}, 3.5, DType::f32, Device::cuda(0)).to_vector() == std::vector<float>(7, 3.5f));
  const auto before = cuda_memory_stats(0);
  for (int step = 0; step < 5; ++step) {
    const Tensor a = Tensor::zeros({256, 64}, DType::f32, Device::cuda(0));
    const Tensor b = add(a, a);
    CHECK(b.device().is_cuda());
  }
  const auto after = cuda_memory_stats(0);
  CHECK(after.device_allocations - before.device_allocations <= 2);  // the first step's blocks are reused
  CHECK(after.peak_bytes >= 256 * 64 * 4);
  CHECK_THROWS_WITH(Tensor::zeros({2}, DType::f32, Device::cuda(7)), Catch::Contains("cuda:7"));
}
