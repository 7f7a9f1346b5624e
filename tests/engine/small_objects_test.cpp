// The allocation-free building blocks of a training step: inline shapes, the pool allocator, pooled backward
// closures and non-owning function references.
#include <catch2/catch.hpp>

#include "kiln/autograd.h"
#include "kiln/function_ref.h"
#include "kiln/pool_allocator.h"
#include "kiln/shape.h"

using namespace kiln;

TEST_CASE("shape: reads like a vector of sizes and refuses a ninth dimension", "[engine]") {
  Shape shape{2, 3};
  shape.push_back(5);
  shape.insert(shape.begin(), 7);
  CHECK(shape == Shape{7, 2, 3, 5});
  shape.erase(shape.begin() + 1);
  CHECK(shape == Shape{7, 3, 5});
  CHECK(shape != Shape{7, 3});
  CHECK(Shape(3, 4) == Shape{4, 4, 4});
  CHECK(Shape(shape.begin() + 1, shape.end()) == Shape{3, 5});
  CHECK(shape.to_vector() == std::vector<std::int64_t>{7, 3, 5});
  CHECK(shape_str(shape) == "[7, 3, 5]");
  CHECK(shape_numel(Shape{}) == 1);

  Shape full(Shape::max_rank, 1);
  CHECK_THROWS_WITH(full.push_back(1), Catch::Contains("at most 8 dimensions") && Catch::Contains("9"));
  CHECK_THROWS_WITH((Shape{1, 1, 1, 1, 1, 1, 1, 1, 1}), Catch::Contains("at most 8 dimensions"));
  CHECK(full.size() == Shape::max_rank);
}

TEST_CASE("pool allocator: a released block serves the next request of its size class", "[engine]") {
  PoolAllocator<std::byte> pool;
  std::byte* first = pool.allocate(40);
  std::byte* second = pool.allocate(40);
  CHECK(first != second);
  pool.deallocate(first, 40);
#if !defined(__SANITIZE_ADDRESS__)  // ASan builds hand every block to operator new
  std::byte* again = pool.allocate(33);  // 33 and 40 bytes share the 48-byte class
  CHECK(again == first);
  pool.deallocate(again, 33);
#endif
  pool.deallocate(second, 40);

  // Blocks keep the fundamental alignment, and large ones are plain heap blocks.
  for (const std::size_t bytes : {1, 16, 17, 255, 256, 257, 4096, 4097, 100000}) {
    std::byte* block = pool.allocate(bytes);
    CHECK(reinterpret_cast<std::uintptr_t>(block) % alignof(std::max_align_t) == 0);
    block[bytes - 1] = std::byte{1};
    pool.deallocate(block, bytes);
  }
  PoolVector<int> values(1000, 7);
  values.push_back(8);
  CHECK(values.size() == 1001);
  CHECK(values.back() == 8);
}

TEST_CASE("backward function: owns its closure, moves it, and releases it on reset", "[autograd]") {
  const auto saved = std::make_shared<int>(5);
  BackwardFunction backward = [saved, padding = std::array<double, 40>{}](const Tensor&, const GradientNeeds& needs) {
    return Gradients(needs.size());
  };
  CHECK(saved.use_count() == 2);
  BackwardFunction moved = std::move(backward);
  CHECK(!backward);  // NOLINT: the moved-from state is part of the contract
  CHECK(static_cast<bool>(moved));
  CHECK(saved.use_count() == 2);
  const PoolVector<Edge> edges(3);
  CHECK(moved(Tensor(), GradientNeeds(edges)).size() == 3);
  moved.reset();
  CHECK(!moved);
  CHECK(saved.use_count() == 1);
}

TEST_CASE("function ref: calls the referenced callable with its state", "[engine]") {
  int total = 0;
  const auto add = [&total](int value) { total += value; };
  const auto call_twice = [](FunctionRef<void(int)> function) {
    function(2);
    function(3);
  };
  call_twice(add);
  call_twice([&total](int value) { total *= value; });
  CHECK(total == 5 * 2 * 3);
}
