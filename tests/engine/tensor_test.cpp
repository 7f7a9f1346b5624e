#include <catch2/catch.hpp>

#include "base/allocator.h"
#include "kiln/kiln.h"

using namespace kiln;

TEST_CASE("tensor: factories give the requested shape, dtype and values", "[tensor]") {
  const Tensor z = Tensor::zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.dtype() == DType::f32);
  CHECK(z.device() == Device::cpu());
  CHECK(z.to_vector() == std::vector<float>(6, 0.0f));
  CHECK(Tensor::ones({4}, DType::f64).to_vector_f64() == std::vector<double>(4, 1.0));
  CHECK(Tensor::full({1}, 2.5).item() == 2.5);
  CHECK(Tensor::scalar(3.0).dim() == 0);
}

TEST_CASE("tensor: random factories are reproducible by seed and plausible", "[tensor]") {
  Generator a(7), b(7), c(8);
  const auto x = Tensor::randn({1000}, a).to_vector();
  CHECK(x == Tensor::randn({1000}, b).to_vector());
  CHECK(x != Tensor::randn({1000}, c).to_vector());
  double mean = 0, square = 0;
  for (float v : x) mean += v, square += double(v) * v;
  mean /= 1000, square /= 1000;
  CHECK(std::abs(mean) < 0.1);
  CHECK(std::abs(square - 1.0) < 0.15);
  // A second draw from the same generator continues the stream.
  CHECK(Tensor::randn({1000}, a).to_vector() != x);
  Generator u(3);
  for (float v : Tensor::uniform({500}, -2, 3, u).to_vector()) {
    CHECK(v >= -2.0f);
    CHECK(v < 3.0f);
  }
}

TEST_CASE("tensor: reshape and flatten are views sharing storage", "[tensor]") {
  Tensor t = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor r = t.reshape({3, -1});
  CHECK(r.shape() == Shape{3, 2});
  CHECK(r.raw_data() == t.raw_data());
  t.fill(9);
  CHECK(r.to_vector() == std::vector<float>(6, 9.0f));
  CHECK(Tensor::zeros({2, 3, 4, 5}).flatten(1).shape() == Shape{2, 60});
  CHECK_THROWS_WITH(t.reshape({4, 2}), Catch::Contains("[2, 3]") && Catch::Contains("[4, 2]"));
  CHECK_THROWS_AS(t.reshape({-1, -1}), Error);
}

TEST_CASE("tensor: narrow is a view of a contiguous slice, and a place to copy a scalar into", "[tensor]") {
  Tensor t = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2});
  const Tensor rows = t.narrow(0, 1, 2);
  CHECK(rows.shape() == Shape{2, 2});
  CHECK(rows.to_vector() == std::vector<float>{3, 4, 5, 6});
  CHECK(rows.raw_data() == t.data<float>() + 2);
  CHECK(Tensor::zeros({1, 1, 6}).narrow(-1, 2, 3).shape() == Shape{1, 1, 3});

  // Per-step values kept in a buffer: element i takes a scalar in place.
  Tensor losses = Tensor::zeros({4});
  losses.narrow(0, 2, 1).copy_from(Tensor::scalar(7.5).reshape({1}));
  CHECK(losses.to_vector() == std::vector<float>{0, 0, 7.5f, 0});

  CHECK_THROWS_WITH(t.narrow(0, 2, 2), Catch::Contains("[2, 4) is outside dimension 0 of shape [3, 2]"));
  CHECK_THROWS_WITH(t.narrow(1, 0, 1), Catch::Contains("not contiguous"));
  CHECK_THROWS_WITH(t.narrow(2, 0, 1), Catch::Contains("dimension 2 out of range"));

  // The gradient flows into the slice, zero elsewhere.
  Tensor leaf = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3});
  leaf.set_requires_grad(true);
  sum(leaf.narrow(0, 1, 2)).backward();
  CHECK(leaf.grad().to_vector_f64() == std::vector<double>{0, 1, 1});
}

TEST_CASE("tensor: dtype conversion and copies", "[tensor]") {
  const Tensor t = Tensor::from_vector(std::vector<float>{1.5f, -2.0f}, {2});
  CHECK(t.to(DType::f64).to_vector_f64() == std::vector<double>{1.5, -2.0});
  CHECK(t.to(DType::i32).data<std::int32_t>()[1] == -2);
  const Tensor copy = t.clone();
  CHECK(copy.raw_data() != t.raw_data());
  CHECK(copy.to_vector() == t.to_vector());
  CHECK_THROWS_WITH(t.data<double>(), Catch::Contains("float32"));
}

TEST_CASE("device: parsing and the no-GPU fallback", "[tensor]") {
  CHECK(Device::parse("cuda:3") == Device::cuda(3));
  CHECK(Device::parse("cpu") == Device::cpu());
  CHECK(Device::cuda(1).str() == "cuda:1");
  CHECK_THROWS_WITH(Device::parse("gpu"), Catch::Contains("gpu"));
  CHECK_THROWS_AS(Device::parse("cuda:x"), Error);
  if (cuda_device_count() == 0) {
    CHECK(best_device() == Device::cpu());
    CHECK_THROWS_AS(Tensor::zeros({2}, DType::f32, Device::cuda(0)), Error);
  }
  CHECK_FALSE(cuda_status_line().empty());
}

TEST_CASE("tensor: CPU storage is recycled by size class, so a repeated step allocates nothing new", "[engine]") {
  const auto allocations = [] { return host_memory_stats().device_allocations; };
  { const Tensor warm = Tensor::empty({1000, 37}); }
  const auto before = allocations();
  for (int step = 0; step < 3; ++step) {
    const Tensor activations = Tensor::empty({1000, 37});
    const Tensor other = Tensor::zeros({1000, 36});  // the same 512-byte size class: one more block, reused after
  }
#if defined(__SANITIZE_ADDRESS__)
  CHECK(allocations() == before);  // not cached under ASan: no pool allocations at all
#else
  CHECK(allocations() == before + 1);
  CHECK(host_memory_stats().cached_bytes >= size_class(1000 * 37 * 4));
#endif
}
