// The emulator's CUDA runtime calls, its options, and device functions used outside a kernel.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "tests/simt/support.h"

using namespace kiln::simt;
using Catch::Matchers::Contains;

namespace {

// Emulator only (a host-compiled test kernel): thread 0 of blocks 0 and 1 meet, which needs them on two OS threads
// at once. The wait is bounded so that a failure cannot hang.
__global__ void rendezvous_kernel(std::atomic<int>* arrived, int* met) {
  if (threadIdx.x == 0) {
    ++*arrived;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (arrived->load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    met[blockIdx.x] = arrived->load() == 2;
  }
  __syncthreads();
}

}  // namespace

TEST_CASE("simt: memory + copies + sets + events + device queries", "[simt][runtime]") {
  void* memory = nullptr;
  REQUIRE(cudaMalloc(&memory, 1000) == cudaSuccess);
  CHECK(reinterpret_cast<std::uintptr_t>(memory) % 256 == 0);
  auto* device = static_cast<int*>(memory);
  std::vector<int> host(250), back(250, -1);
  for (int i = 0; i < 250; ++i) {
    host[i] = i * 7;
  }
  REQUIRE(cudaMemcpy(device, host.data(), 1000, cudaMemcpyHostToDevice) == cudaSuccess);
  REQUIRE(cudaMemcpyAsync(device + 125, device, 500, cudaMemcpyDeviceToDevice, nullptr) == cudaSuccess);
  REQUIRE(cudaStreamSynchronize(nullptr) == cudaSuccess);
  REQUIRE(cudaMemcpy(back.data(), device, 1000, cudaMemcpyDefault) == cudaSuccess);
  for (int i = 0; i < 250; ++i) {
    REQUIRE(back[i] == host[i % 125]);
  }
  REQUIRE(cudaMemset(device, 0xff, 8) == cudaSuccess);
  REQUIRE(cudaMemsetAsync(device + 2, 0, 8, nullptr) == cudaSuccess);
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  REQUIRE(cudaMemcpy(back.data(), device, 16, cudaMemcpyDeviceToHost) == cudaSuccess);
  CHECK(back[0] == -1);
  CHECK(back[1] == -1);
  CHECK(back[2] == 0);
  CHECK(back[3] == 0);
  REQUIRE(cudaFree(memory) == cudaSuccess);

  cudaEvent_t start = nullptr, stop = nullptr;
  REQUIRE(cudaEventCreate(&start) == cudaSuccess);
  REQUIRE(cudaEventCreate(&stop) == cudaSuccess);
  REQUIRE(cudaEventRecord(start) == cudaSuccess);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  REQUIRE(cudaEventRecord(stop, nullptr) == cudaSuccess);
  REQUIRE(cudaEventSynchronize(stop) == cudaSuccess);
  float milliseconds = 0.0f;
  REQUIRE(cudaEventElapsedTime(&milliseconds, start, stop) == cudaSuccess);
  CHECK(milliseconds >= 1.5f);
  REQUIRE(cudaEventDestroy(start) == cudaSuccess);
  REQUIRE(cudaEventDestroy(stop) == cudaSuccess);

  int count = 0, current = -1;
  REQUIRE(cudaGetDeviceCount(&count) == cudaSuccess);
  CHECK(count == 1);
  REQUIRE(cudaSetDevice(0) == cudaSuccess);
  REQUIRE(cudaGetDevice(&current) == cudaSuccess);
  CHECK(current == 0);
  std::size_t free_bytes = 0, total = 0;
  REQUIRE(cudaMemGetInfo(&free_bytes, &total) == cudaSuccess);
  CHECK(total > 0);
  CHECK(free_bytes <= total);
}

TEST_CASE("simt: failing runtime calls set the last error once", "[simt][runtime]") {
  REQUIRE(cudaGetLastError() == cudaSuccess);
  CHECK(cudaSetDevice(1) == cudaErrorInvalidDevice);
  int x = 0;
  CHECK(cudaMemcpy(&x, &x, sizeof x, static_cast<cudaMemcpyKind>(7)) == cudaErrorInvalidMemcpyDirection);
  CHECK(cudaGetLastError() == cudaErrorInvalidMemcpyDirection);
  CHECK(cudaGetLastError() == cudaSuccess);
  CHECK(std::string(cudaGetErrorString(cudaErrorInvalidDevice)) == "invalid device ordinal");
  CHECK(std::string(cudaGetErrorString(cudaSuccess)) == "no error");
}

TEST_CASE("simt: blocks run on two OS threads at once", "[simt][runtime]") {
  const testing::ScopedOptions two_threads({Order::forward, 1, 2});
  std::atomic<int> arrived{0};
  int met[2] = {0, 0};
  launch("rendezvous_kernel", rendezvous_kernel, dim3(2), dim3(64), 0, nullptr, &arrived, met);
  CHECK(met[0] == 1);
  CHECK(met[1] == 1);
}

TEST_CASE("simt: a device memory cap makes cudaMalloc fail past it and cudaMemGetInfo report it", "[simt][runtime]") {
  const Options saved = options();
  Options capped = saved;
  capped.device_memory = 4096;
  set_options(capped);
  void* first = nullptr;
  void* second = nullptr;
  REQUIRE(cudaMalloc(&first, 3000) == cudaSuccess);
  std::size_t free_bytes = 0, total = 0;
  REQUIRE(cudaMemGetInfo(&free_bytes, &total) == cudaSuccess);
  CHECK(free_bytes == 1096);
  CHECK(total == 4096);
  CHECK(cudaMalloc(&second, 1097) == cudaErrorMemoryAllocation);
  CHECK(second == nullptr);
  CHECK(cudaGetLastError() == cudaErrorMemoryAllocation);
  REQUIRE(cudaMalloc(&second, 1096) == cudaSuccess);
  REQUIRE(cudaMemGetInfo(&free_bytes, &total) == cudaSuccess);
  CHECK(free_bytes == 0);
  cudaDeviceProp properties{};
  REQUIRE(cudaGetDeviceProperties(&properties, 0) == cudaSuccess);
  CHECK(properties.totalGlobalMem == 4096);
  REQUIRE(cudaFree(first) == cudaSuccess);
  REQUIRE(cudaFree(second) == cudaSuccess);
  REQUIRE(cudaMemGetInfo(&free_bytes, &total) == cudaSuccess);
  CHECK(free_bytes == 4096);
  int not_device_memory = 0;
  CHECK(cudaFree(&not_device_memory) == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
  set_options(saved);
  // Uncapped, the device reports the host's memory.
  REQUIRE(cudaMemGetInfo(&free_bytes, &total) == cudaSuccess);
  CHECK(total > 4096);
}

TEST_CASE("simt: options are checked and device functions need a kernel", "[simt][runtime]") {
  CHECK_THROWS_WITH(set_options({Order::forward, 1, 0}), Contains("os_threads must be at least 1"));
  CHECK_THROWS_WITH(__syncthreads(), Contains("outside a kernel"));
  CHECK_THROWS_WITH(__ballot_sync(0xffffffffu, 1), Contains("outside a kernel"));
}
