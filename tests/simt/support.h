#pragma once
// Helpers for the emulator tests: device buffers and the thread orders and OS thread counts every kernel runs under.
#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "kernels/simt/emulator.h"

namespace kiln::simt::testing {

// A cudaMalloc buffer of n T's, filled from and read back to host vectors with cudaMemcpy.
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t n) : size_(n) {
    void* memory = nullptr;
    REQUIRE(cudaMalloc(&memory, n * sizeof(T)) == cudaSuccess);
    data_ = static_cast<T*>(memory);
    REQUIRE(cudaMemset(data_, 0, n * sizeof(T)) == cudaSuccess);
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) {
    REQUIRE(cudaMemcpy(data_, host.data(), size_ * sizeof(T), cudaMemcpyHostToDevice) == cudaSuccess);
  }
  ~DeviceBuffer() { cudaFree(data_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return data_; }
  std::vector<T> read() const {
    std::vector<T> host(size_);
    REQUIRE(cudaMemcpy(host.data(), data_, size_ * sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess);
    return host;
  }

 private:
  std::size_t size_;
  T* data_ = nullptr;
};

// Thread order forward, reverse and random, each with blocks on 1 and on 2 OS threads.
inline std::vector<Options> all_configs() {
  std::vector<Options> configs;
  for (const Order order : {Order::forward, Order::reverse, Order::random}) {
    for (const int os_threads : {1, 2}) {
      configs.push_back({order, 12345, os_threads});
    }
  }
  return configs;
}

inline std::string describe(const Options& config) {
  const char* names[] = {"forward", "reverse", "random"};
  return std::string("order ") + names[static_cast<int>(config.order)] + ", " + std::to_string(config.os_threads) +
         " OS thread(s)";
}

// Sets the emulator's options for one test run and restores the previous ones after it.
class ScopedOptions {
 public:
  explicit ScopedOptions(const Options& config) : saved_(options()) { set_options(config); }
  ~ScopedOptions() { set_options(saved_); }
  ScopedOptions(const ScopedOptions&) = delete;
  ScopedOptions& operator=(const ScopedOptions&) = delete;

 private:
  Options saved_;
};

}  // namespace kiln::simt::testing

// Runs the rest of the test case once per configuration of all_configs().
#define KILN_SIMT_EACH_CONFIG(config)                                                        \
  const ::kiln::simt::Options config = GENERATE(from_range(::kiln::simt::testing::all_configs())); \
  const ::kiln::simt::testing::ScopedOptions scoped_options_(config);                        \
  INFO(::kiln::simt::testing::describe(config))
