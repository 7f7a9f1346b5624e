// Out of CUDA memory is a kiln::Error naming the op that asked, the bytes requested, and the device's free and total
// memory. On a GPU the request is larger than any GPU; on the emulator the device's memory is capped
// (simt::Options::device_memory), so that the free and total figures are known exactly.
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "base/allocator.h"
#include "kiln/kiln.h"
#if KILN_CUDA_EMULATED
#include "kernels/simt/emulator.h"
#endif

using namespace kiln;

namespace {

// The error text of f(), which must throw kiln::Error.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& error) {
    return error.what();
  }
  FAIL("no error thrown");
  return {};
}

// The "<free> free of <total>" figures of an out-of-memory message; {0, 0} when it has none.
std::pair<unsigned long long, unsigned long long> free_and_total(const std::string& message) {
  const std::size_t at = message.find(" bytes, ");
  unsigned long long free_bytes = 0, total = 0;
  if (at == std::string::npos ||
      std::sscanf(message.c_str() + at, " bytes, %llu free of %llu ", &free_bytes, &total) != 2) {
    return {0, 0};
  }
  return {free_bytes, total};
}

#if KILN_CUDA_EMULATED
// Caps the emulated device at what is in use now plus `headroom` bytes, for the life of the object.
class DeviceMemoryCap {
 public:
  explicit DeviceMemoryCap(std::size_t headroom) : saved_(simt::options()) {
    cuda_empty_cache(0);  // cached blocks count as used device memory
    simt::Options capped = saved_;
    in_use_ = cuda_memory_stats(0).in_use_bytes;
    capped.device_memory = in_use_ + headroom;
    simt::set_options(capped);
  }
  ~DeviceMemoryCap() { simt::set_options(saved_); }
  DeviceMemoryCap(const DeviceMemoryCap&) = delete;
  DeviceMemoryCap& operator=(const DeviceMemoryCap&) = delete;
  std::size_t total() const { return simt::options().device_memory; }
  std::size_t in_use_at_start() const { return in_use_; }

 private:
  simt::Options saved_;
  std::size_t in_use_ = 0;
};
#endif

}  // namespace

TEST_CASE("cuda: out of memory names the op, the bytes requested, free and total", "[cuda]") {
  const Device device = Device::cuda(0);
  // A 1x1 convolution of a single pixel padded by 12000 on each side into 256 channels: a 590 GB output.
  const Tensor x = Tensor::ones({1, 1, 1, 1}).to(device), weight = Tensor::ones({256, 1, 1, 1}).to(device);
  const Conv2dOptions padded = Conv2dOptions::square(1, 12000);
  const std::size_t output_bytes = std::size_t{256} * 24001 * 24001 * sizeof(float);
  const std::string requested = std::string("requested ") + std::to_string(size_class(output_bytes)) + " bytes, ";
#if KILN_CUDA_EMULATED
  const DeviceMemoryCap cap(std::size_t{64} << 20);
  const std::string memory = std::to_string(cap.total() - cap.in_use_at_start()) + " free of " +
                             std::to_string(cap.total());
#else
  const std::string memory;
#endif
  const std::string forward = error_of([&] { conv2d(x, weight, Tensor(), padded); });
  INFO(forward);
  CHECK_THAT(forward, Catch::Contains("out of memory on cuda:0 in conv2d: " + requested + memory));
  const auto [free_bytes, total] = free_and_total(forward);
  CHECK(total > 0);
  CHECK(free_bytes <= total);

  const std::string outside = error_of([&] { Tensor::empty({256, 24001, 24001}, DType::f32, device); });
  INFO(outside);
  CHECK_THAT(outside, Catch::Contains("out of memory on cuda:0 outside any op: " + requested + memory));
}

#if KILN_CUDA_EMULATED
TEST_CASE("cuda: out of memory in a backward pass names the op and the pass", "[cuda]") {
  // A stride-2 convolution of a 1 MiB input: the forward (256 KiB) and the loss's gradient fit under the cap, the
  // input's 1 MiB gradient does not.
  const Device device = Device::cuda(0);
  Tensor x = Tensor::ones({1, 1, 512, 512}).to(device);
  x.set_requires_grad(true);
  const Tensor weight = Tensor::ones({1, 1, 1, 1}).to(device);
  const Tensor loss = sum(conv2d(x, weight, Tensor(), Conv2dOptions::square(2, 0)));
  const DeviceMemoryCap cap(std::size_t{512} << 10);
  const std::string backward = error_of([&] { loss.backward(); });
  INFO(backward);
  CHECK_THAT(backward, Catch::Contains("out of memory on cuda:0 in conv2d backward: requested 1048576 bytes, "));
  const auto [free_bytes, total] = free_and_total(backward);
  CHECK(total == cap.total());
  CHECK(free_bytes < 1048576);
}
#endif
