#include <catch2/catch.hpp>
#include <atomic>
#include <vector>

#include "kernels/parallel.h"
#include "kernels/reduce.h"

using namespace kiln::kernels;

TEST_CASE("parallel_for: covers every index exactly once, in chunks of at least the grain", "[parallel]") {
  for (const int threads : {1, 2, 3, 8}) {
    set_num_threads(threads);
    std::vector<std::atomic<int>> hits(1001);
    std::atomic<int> chunks{0};
    parallel_for(0, 1001, 100, [&](std::int64_t begin, std::int64_t end) {
      CHECK(end - begin >= 1);
      ++chunks;
      for (std::int64_t i = begin; i < end; ++i) ++hits[static_cast<std::size_t>(i)];
    });
    for (const auto& hit : hits) REQUIRE(hit.load() == 1);
    CHECK(chunks.load() <= std::max(1, threads));
  }
  set_num_threads(2);
}

TEST_CASE("parallel_for: nested regions run serially and exceptions propagate", "[parallel]") {
  set_num_threads(2);
  std::atomic<int> inner_total{0};
  parallel_for(0, 4, 1, [&](std::int64_t begin, std::int64_t end) {
    CHECK(in_parallel_region());
    for (std::int64_t i = begin; i < end; ++i) {
      parallel_for(0, 10, 1, [&](std::int64_t b, std::int64_t e) { inner_total += static_cast<int>(e - b); });
    }
  });
  CHECK(inner_total.load() == 40);
  CHECK_FALSE(in_parallel_region());
  CHECK_THROWS_WITH(parallel_for(0, 100, 1,
                                 [](std::int64_t begin, std::int64_t) {
                                   if (begin == 0) throw std::runtime_error("chunk failed");
                                 }),
                    "chunk failed");
}

TEST_CASE("sum: the result does not depend on the thread count", "[parallel]") {
  std::vector<float> values(100003);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>((i * 7919) % 1000) * 1e-3f - 0.5f;
  set_num_threads(1);
  const float serial = cpu::sum(values.data(), static_cast<std::int64_t>(values.size()));
  set_num_threads(2);
  CHECK(cpu::sum(values.data(), static_cast<std::int64_t>(values.size())) == serial);
}

TEST_CASE("parallel_for: kernels flush subnormal floats to zero unless told not to; the caller keeps its mode",
          "[parallel]") {
  // 1e-40 is subnormal in float32. Several chunks, so that workers and the calling thread both multiply.
  const float subnormal = 1e-40f;
  std::vector<float> x(4096, subnormal), y(x.size());
  const auto multiply = [&] {
    parallel_for(0, static_cast<std::int64_t>(x.size()), 256, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) y[static_cast<std::size_t>(i)] = x[static_cast<std::size_t>(i)] * 3.0f;
    });
  };
  const bool saved = flush_denormals();
  set_num_threads(2);
  set_flush_denormals(true);
  multiply();
#if defined(__SSE__)
  for (const float value : y) CHECK(value == 0.0f);
#endif
  volatile float operand = subnormal;  // the caller's own arithmetic keeps subnormals
  CHECK(operand * 3.0f > 0.0f);
  set_flush_denormals(false);
  multiply();
  for (const float value : y) CHECK(value == subnormal * 3.0f);
  set_flush_denormals(saved);
}
