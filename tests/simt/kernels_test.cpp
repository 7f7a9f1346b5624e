// Sample kernels run on the emulator under every thread order and OS thread count, against host references.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "tests/simt/samples.h"
#include "tests/simt/support.h"

using namespace kiln::simt;
using testing::DeviceBuffer;

namespace {

std::vector<float> uniform(std::size_t n, float low, float high, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(low, high);
  std::vector<float> values(n);
  std::generate(values.begin(), values.end(), [&] { return dist(rng); });
  return values;
}

}  // namespace

TEST_CASE("simt: a grid-stride float4 kernel is exact", "[simt]") {
  KILN_SIMT_EACH_CONFIG(config);
  const int n = 4 * 10007;
  const float scale = 1.75f;
  const std::vector<float> x = uniform(n, -1.0f, 1.0f, 1);
  const DeviceBuffer<float> dx(x), dy(n);
  samples::relu_scale4(dx.get(), dy.get(), scale, n, 7, 96);
  const std::vector<float> y = dy.read();
  for (int i = 0; i < n; ++i) {
    REQUIRE(y[i] == std::max(x[i], 0.0f) * scale);
  }
}

TEST_CASE("simt: every thread of a 3-D grid of 3-D blocks runs once with its coordinates", "[simt]") {
  KILN_SIMT_EACH_CONFIG(config);
  const unsigned grid[3] = {3, 2, 2}, block[3] = {4, 3, 5};  // 60 threads: the second warp is partial
  const unsigned per_block = block[0] * block[1] * block[2];
  const DeviceBuffer<unsigned> out(6 * grid[0] * grid[1] * grid[2] * per_block);
  samples::coordinates(out.get(), 3, 2, 2, 4, 3, 5);
  const std::vector<unsigned> got = out.read();
  for (std::size_t slot = 0; slot < got.size() / 6; ++slot) {
    const unsigned thread = static_cast<unsigned>(slot % per_block), b = static_cast<unsigned>(slot / per_block);
    const unsigned expected[6] = {thread % block[0], thread / block[0] % block[1], thread / block[0] / block[1],
                                  b % grid[0],       b / grid[0] % grid[1],       b / grid[0] / grid[1]};
    for (int c = 0; c < 6; ++c) {
      REQUIRE(got[6 * slot + c] == expected[c]);
    }
  }
}

TEST_CASE("simt: a 32x32 tiled SGEMM matches a double reference at 67x45x129", "[simt]") {
  KILN_SIMT_EACH_CONFIG(config);
  const int m = 67, n = 45, k = 129;
  const std::vector<float> a = uniform(m * k, -1.0f, 1.0f, 2), b = uniform(k * n, -1.0f, 1.0f, 3);
  const DeviceBuffer<float> da(a), db(b), dc(m * n);
  samples::sgemm_tiled(da.get(), db.get(), dc.get(), m, n, k);
  const std::vector<float> c = dc.read();
  double worst = 0.0;
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double exact = 0.0, magnitude = 0.0;
      for (int p = 0; p < k; ++p) {
        exact += double{a[i * k + p]} * b[p * n + j];
        magnitude += std::abs(double{a[i * k + p]} * b[p * n + j]);
      }
      worst = std::max(worst, std::abs(c[i * n + j] - exact) / magnitude);  // relative to the terms' size
    }
  }
  INFO("worst relative error " << worst);
  REQUIRE(worst < 1e-4);
}

TEST_CASE("simt: a block reduction (warp shuffles + shared memory + atomicAdd) sums 100003 floats", "[simt]") {
  KILN_SIMT_EACH_CONFIG(config);
  const int n = 100003;
  const std::vector<float> x = uniform(n, 0.0f, 1.0f, 4);
  const DeviceBuffer<float> dx(x), sum(1);
  samples::block_sum(dx.get(), sum.get(), n, 40, 256);
  double exact = 0.0;
  for (const float v : x) {
    exact += v;
  }
  const double got = sum.read()[0];
  const double relative_error = std::abs(got - exact) / exact;
  INFO("relative error " << relative_error);
  REQUIRE(relative_error < 1e-4);
}

TEST_CASE("simt: warp votes + shuffles with widths + barrier counts follow the CUDA definitions", "[simt]") {
  KILN_SIMT_EACH_CONFIG(config);
  const int n = GENERATE(64, 80);  // 80: the third warp has only 16 lanes
  INFO(n << " threads");
  const DeviceBuffer<int> out(samples::warp_op_fields * n);
  samples::warp_ops(out.get(), n);
  const std::vector<int> got = out.read();
  const auto bits = [](int lanes, auto predicate) {
    unsigned mask = 0;
    for (int m = 0; m < lanes; ++m) {
      mask |= predicate(m) ? 1u << m : 0u;
    }
    return static_cast<int>(mask);
  };
  int multiples_of_5 = 0;
  for (int t = 0; t < n; t += 5) {
    ++multiples_of_5;
  }
  for (int t = 0; t < n; ++t) {
    const int lane = t % 32, lanes = std::min(32, n - t / 32 * 32), v = 100 + lane;
    const int xor9 = lane ^ 9;
    const int expected[samples::warp_op_fields] = {
        bits(lanes, [](int m) { return m % 3 == 0; }),
        lanes > 17,
        0,
        lanes <= 31,
        1,
        100 + (lane & ~7) + 3,
        100 + lane / 2,
        lane % 8 == 0 ? v : v - 1,
        lane >= 3 ? v - 3 : v,
        lane % 16 + 5 < 16 ? v + 5 : v,
        100 + (lane ^ 5),
        xor9 <= (lane & ~7) + 7 ? 100 + xor9 : v,
        (lane + 1) * (lane + 2) / 2,
        lane < 16 ? bits(std::min(lanes, 16), [](int m) { return (m & 1) != 0; })
                  : bits(lanes, [](int m) { return m >= 16 && (m & 2) != 0; }),
        3 * (lane ^ 1),
        multiples_of_5,
        0,
        1,
    };
    for (int f = 0; f < samples::warp_op_fields; ++f) {
      INFO("thread " << t << ", field " << f);
      REQUIRE(got[f * n + t] == expected[f]);
    }
  }
}

TEST_CASE("simt: dynamic shared memory holds two element types and is per block", "[simt]") {
  KILN_SIMT_EACH_CONFIG(config);
  const int blocks = 5, threads = 128;
  std::vector<float> x(blocks * threads);
  std::vector<double> xd(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = static_cast<float>(i);
    xd[i] = 0.5 * static_cast<double>(i);
  }
  const DeviceBuffer<float> dx(x), dy(x.size());
  const DeviceBuffer<double> dxd(xd), dyd(x.size());
  samples::reverse_blocks(dx.get(), dy.get(), blocks, threads);
  samples::reverse_blocks(dxd.get(), dyd.get(), blocks, threads);
  const std::vector<float> y = dy.read();
  const std::vector<double> yd = dyd.read();
  for (int b = 0; b < blocks; ++b) {
    for (int t = 0; t < threads; ++t) {
      REQUIRE(y[b * threads + t] == x[b * threads + threads - 1 - t]);
      REQUIRE(yd[b * threads + t] == xd[b * threads + threads - 1 - t]);
    }
  }
}
