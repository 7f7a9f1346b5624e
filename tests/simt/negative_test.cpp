// Negative controls: kernels with deliberate bugs that the emulator must expose, and launches CUDA would refuse.
#include <random>
#include <vector>

#include "kernels/simt/cuda_compat.h"
#include "tests/simt/samples.h"
#include "tests/simt/support.h"

using namespace kiln::simt;
using Catch::Matchers::Contains;
using testing::DeviceBuffer;

namespace {

// Emulator-only kernels (host-compiled here) that misuse warp collective masks.
__global__ void ballot_outside_mask_kernel(unsigned* out) { out[threadIdx.x] = __ballot_sync(1u, 1); }

__global__ void shuffle_outside_mask_kernel(int* out) {
  if (threadIdx.x < 16) {
    out[threadIdx.x] = __shfl_sync(0x0000ffffu, static_cast<int>(threadIdx.x), 20);
  }
}

}  // namespace

TEST_CASE("simt: negative control: a missing __syncthreads gives wrong results", "[simt][negative]") {
  KILN_SIMT_EACH_CONFIG(config);
  const int blocks = 4, threads = 256;
  // Fresh values each run, so stale shared memory from an earlier run on this OS thread cannot look right.
  std::mt19937 rng(static_cast<unsigned>(config.order) * 10 + static_cast<unsigned>(config.os_threads));
  std::uniform_real_distribution<float> dist(1.0f, 2.0f);
  std::vector<float> x(blocks * threads);
  for (float& v : x) {
    v = dist(rng);
  }
  const DeviceBuffer<float> dx(x), dy(x.size());
  samples::reverse_blocks_unsynced(dx.get(), dy.get(), blocks);
  const std::vector<float> y = dy.read();
  int wrong = 0, wrong_first_half = 0;
  for (int b = 0; b < blocks; ++b) {
    for (int t = 0; t < threads; ++t) {
      const bool bad = y[b * threads + t] != x[b * threads + threads - 1 - t];
      wrong += bad;
      wrong_first_half += bad && t < threads / 2;
    }
  }
  INFO(wrong << " of " << x.size() << " outputs wrong, " << wrong_first_half << " in the first halves");
  REQUIRE(wrong > 0);
  // Threads run to completion in order: the first half of the order reads slots the second half has not written.
  if (config.order == Order::forward) {
    CHECK(wrong == blocks * threads / 2);
    CHECK(wrong_first_half == wrong);
  } else if (config.order == Order::reverse) {
    CHECK(wrong == blocks * threads / 2);
    CHECK(wrong_first_half == 0);
  }
}

TEST_CASE("simt: negative control: __syncthreads in a divergent branch is a deadlock error naming the kernel",
          "[simt][negative]") {
  KILN_SIMT_EACH_CONFIG(config);
  const DeviceBuffer<float> y(128);
  REQUIRE_THROWS_WITH(samples::divergent_barrier(y.get(), 128),
                      Contains("divergent_barrier_kernel") && Contains("deadlock") &&
                          Contains("64 of 128 threads wait at __syncthreads while 64 have exited"));
  // The emulator is usable after the error.
  const std::vector<float> x(256, 3.0f);
  const DeviceBuffer<float> dx(x), dy(x.size());
  samples::reverse_blocks(dx.get(), dy.get(), 2, 128);
  REQUIRE(dy.read() == x);
}

TEST_CASE("simt: negative control: a full-mask shuffle half a warp skips is a deadlock error", "[simt][negative]") {
  KILN_SIMT_EACH_CONFIG(config);
  const DeviceBuffer<int> y(64);
  REQUIRE_THROWS_WITH(samples::partial_warp_shuffle(y.get(), 64),
                      Contains("partial_warp_shuffle_kernel") && Contains("deadlock") &&
                          Contains("__shfl_xor_sync with mask 0xffffffff") && Contains("has exited"));
}

TEST_CASE("simt: negative control: warp collectives misusing their masks are errors", "[simt][negative]") {
  KILN_SIMT_EACH_CONFIG(config);
  const DeviceBuffer<unsigned> ballots(32);
  const DeviceBuffer<int> values(32);
  REQUIRE_THROWS_WITH(KILN_LAUNCH(ballot_outside_mask_kernel, dim3(1), dim3(32), 0, nullptr, ballots.get()),
                      Contains("ballot_outside_mask_kernel") && Contains("with mask 0x1, which does not include it"));
  REQUIRE_THROWS_WITH(KILN_LAUNCH(shuffle_outside_mask_kernel, dim3(1), dim3(32), 0, nullptr, values.get()),
                      Contains("shuffle_outside_mask_kernel") && Contains("reading lane 20, outside its mask 0xffff"));
}

TEST_CASE("simt: launch configurations outside CUDA's limits are errors naming the kernel", "[simt][negative]") {
  const DeviceBuffer<float> x(4096), y(4096);
  const DeviceBuffer<unsigned> out(6 * 4096);
  CHECK_THROWS_WITH(samples::reverse_blocks(x.get(), y.get(), 1, 1025),
                    Contains("reverse_block_kernel") && Contains("1025 threads") && Contains("1 to 1024"));
  CHECK_THROWS_WITH(samples::coordinates(out.get(), 1, 1, 1, 32, 32, 2), Contains("coordinates_kernel"));
  CHECK_THROWS_WITH(samples::coordinates(out.get(), 1, 1, 1, 1, 1, 65), Contains("z at most 64"));
  CHECK_THROWS_WITH(samples::coordinates(out.get(), 1, 70000, 1, 1, 1, 1), Contains("outside CUDA's limits"));
  CHECK_THROWS_WITH(samples::reverse_blocks(x.get(), y.get(), 0, 32), Contains("outside CUDA's limits"));
  CHECK_THROWS_WITH(samples::reverse_blocks_with_shared(x.get(), y.get(), 1, 32, 48 * 1024 + 4),
                    Contains("exceed 48 KiB"));
  samples::reverse_blocks_with_shared(x.get(), y.get(), 1, 32, 48 * 1024);
}
