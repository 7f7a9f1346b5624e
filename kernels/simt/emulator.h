#pragma once
// SIMT emulator: runs CUDA kernels compiled by the host compiler on the CPU (include kernels/simt/cuda_compat.h, not
// this). Each CUDA thread is a fiber; a block's fibers run on one OS thread, switching at barriers and warp
// collectives, until all have exited; blocks are spread over OS threads. It checks indexing, barriers, warp
// collectives and results; not races, memory ordering, PTX or speed.
#include <cuda_runtime_api.h>  // the toolkit's types and runtime declarations; its host_defines.h makes
#include <vector_functions.h>  // __global__, __device__ and __host__ empty for a host compiler
#include <vector_types.h>

#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include "kernels/simt/launch_count.h"

// One copy per block and OS thread: each OS thread runs one block at a time to completion and fibers never migrate.
#undef __shared__
#define __shared__ static thread_local
#define __launch_bounds__(...)

// Set by the scheduler before it resumes a fiber.
inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
inline constexpr int warpSize = 32;

namespace kiln::simt {

enum class Order { forward, reverse, random };

// How launches run: the order in which a block's threads (and a grid's blocks) start and resume, the seed of the
// random order, and how many OS threads share the blocks; and the emulated device's memory: 0 for the host's, or a
// cap in bytes past which cudaMalloc fails as a full GPU's does (cudaMemGetInfo reports the cap as the total), to test
// out-of-memory paths. Defaults: KILN_SIMT_ORDER=forward|reverse|random, KILN_SIMT_SEED=N, KILN_SIMT_THREADS=N,
// KILN_SIMT_DEVICE_MEMORY=BYTES (forward, 1, 2, 0 when unset).
struct Options {
  Order order = Order::forward;
  std::uint64_t seed = 1;
  int os_threads = 2;
  std::size_t device_memory = 0;
};
Options options();
void set_options(const Options& new_options);

// The running block's dynamic shared memory (the launch's shared_bytes, filled with 0xff bytes at block start).
void* dynamic_shared_memory();

// One launch with its kernel and arguments type-erased behind run(args).
struct Launch {
  const char* kernel_name;
  dim3 grid;
  dim3 block;
  std::size_t shared_bytes;
  void (*run)(const void* args);
  const void* args;
};
// Runs every block; throws kiln::Error naming the kernel on a bad configuration, a deadlock or a collective misuse.
void run(const Launch& launch);

template <class... Params, class... Args>
void launch(const char* kernel_name, void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes,
            cudaStream_t /*streams run synchronously*/, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "kernel launched with the wrong number of arguments");
  ++launch_count;
  // Converted once, as <<<>>> does; std::apply then copies them into each thread's parameters.
  struct Call {
    void (*kernel)(Params...);
    std::tuple<std::decay_t<Params>...> params;
  };
  const Call call{kernel, std::tuple<std::decay_t<Params>...>(std::forward<Args>(args)...)};
  run({kernel_name, grid, block, shared_bytes,
       [](const void* erased) {
         const Call& c = *static_cast<const Call*>(erased);
         std::apply(c.kernel, c.params);
       },
       &call});
}

namespace detail {

// A warp collective: every lane of the mask deposits a value and the lane it reads, and all return together.
struct WarpResult {
  std::uint64_t value;  // the value deposited by the lane this one reads
  unsigned ballot;      // lanes of the group that deposited a nonzero value
  unsigned group;       // lanes of the group (the mask less lanes the block does not have)
};
WarpResult warp_collective(const char* op, unsigned mask, std::uint64_t value, int source_lane);

enum class ShuffleMode { index, up, down, butterfly };
// The lane a shuffle reads, as PTX shfl.sync defines it: a source outside the caller's width-wide segment (above it,
// or below it for up) reads the caller's own value.
int shuffle_source(ShuffleMode mode, unsigned operand, int width);

template <class T>
T shuffle(const char* op, unsigned mask, T var, ShuffleMode mode, unsigned operand, int width) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= sizeof(std::uint64_t), "shuffles move up to 8 bytes");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &var, sizeof(T));
  bits = warp_collective(op, mask, bits, shuffle_source(mode, operand, width)).value;
  std::memcpy(&var, &bits, sizeof(T));
  return var;
}

}  // namespace detail
}  // namespace kiln::simt

// Barriers and warp collectives with CUDA's names and signatures.
void __syncthreads();
int __syncthreads_count(int predicate);
int __syncthreads_and(int predicate);
int __syncthreads_or(int predicate);
void __syncwarp(unsigned mask = 0xffffffffu);
unsigned __ballot_sync(unsigned mask, int predicate);
int __any_sync(unsigned mask, int predicate);
int __all_sync(unsigned mask, int predicate);

template <class T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize) {
  using namespace kiln::simt::detail;
  return shuffle("__shfl_sync", mask, var, ShuffleMode::index, static_cast<unsigned>(src_lane), width);
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  using namespace kiln::simt::detail;
  return shuffle("__shfl_up_sync", mask, var, ShuffleMode::up, delta, width);
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  using namespace kiln::simt::detail;
  return shuffle("__shfl_down_sync", mask, var, ShuffleMode::down, delta, width);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize) {
  using namespace kiln::simt::detail;
  return shuffle("__shfl_xor_sync", mask, var, ShuffleMode::butterfly, static_cast<unsigned>(lane_mask), width);
}

namespace kiln::simt::detail {
template <class T>
T atomic_cas(T* address, T compare, T value) {
  std::atomic_ref<T>(*address).compare_exchange_strong(compare, value);
  return compare;  // the old value, whether or not it matched
}
template <class T, class Better>
T atomic_update_if(T* address, T value, Better better) {
  std::atomic_ref<T> target(*address);
  T old = target.load();
  while (better(value, old) && !target.compare_exchange_weak(old, value)) {
  }
  return old;
}
}  // namespace kiln::simt::detail

// Atomics: real ones, since blocks run on several OS threads. Plain overloads, the set CUDA declares.
inline int atomicAdd(int* address, int value) { return std::atomic_ref(*address).fetch_add(value); }
inline unsigned atomicAdd(unsigned* address, unsigned value) { return std::atomic_ref(*address).fetch_add(value); }
inline unsigned long long atomicAdd(unsigned long long* address, unsigned long long value) {
  return std::atomic_ref(*address).fetch_add(value);
}
inline float atomicAdd(float* address, float value) { return std::atomic_ref(*address).fetch_add(value); }
inline double atomicAdd(double* address, double value) { return std::atomic_ref(*address).fetch_add(value); }
inline int atomicExch(int* address, int value) { return std::atomic_ref(*address).exchange(value); }
inline unsigned atomicExch(unsigned* address, unsigned value) { return std::atomic_ref(*address).exchange(value); }
inline unsigned long long atomicExch(unsigned long long* address, unsigned long long value) {
  return std::atomic_ref(*address).exchange(value);
}
inline float atomicExch(float* address, float value) { return std::atomic_ref(*address).exchange(value); }
inline int atomicCAS(int* address, int compare, int value) {
  return kiln::simt::detail::atomic_cas(address, compare, value);
}
inline unsigned atomicCAS(unsigned* address, unsigned compare, unsigned value) {
  return kiln::simt::detail::atomic_cas(address, compare, value);
}
inline unsigned long long atomicCAS(unsigned long long* address, unsigned long long compare,
                                    unsigned long long value) {
  return kiln::simt::detail::atomic_cas(address, compare, value);
}
inline int atomicMax(int* address, int value) {
  return kiln::simt::detail::atomic_update_if(address, value, [](int a, int b) { return a > b; });
}
inline unsigned atomicMax(unsigned* address, unsigned value) {
  return kiln::simt::detail::atomic_update_if(address, value, [](unsigned a, unsigned b) { return a > b; });
}
inline int atomicMin(int* address, int value) {
  return kiln::simt::detail::atomic_update_if(address, value, [](int a, int b) { return a < b; });
}
inline unsigned atomicMin(unsigned* address, unsigned value) {
  return kiln::simt::detail::atomic_update_if(address, value, [](unsigned a, unsigned b) { return a < b; });
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }

// Device math and bit intrinsics without a <cmath> equivalent (fminf, expf, sqrtf... come from <cmath>).
inline int min(int a, int b) { return a < b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __saturatef(float x) { return fminf(fmaxf(x, 0.0f), 1.0f); }
inline float __fmaf_rn(float x, float y, float z) { return fmaf(x, y, z); }
inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
inline unsigned __float_as_uint(float x) { return std::bit_cast<unsigned>(x); }
inline float __int_as_float(int x) { return std::bit_cast<float>(x); }
inline float __uint_as_float(unsigned x) { return std::bit_cast<float>(x); }
inline int __popc(unsigned x) { return std::popcount(x); }
inline int __clz(int x) { return std::countl_zero(static_cast<unsigned>(x)); }
inline int __ffs(int x) { return x == 0 ? 0 : std::countr_zero(static_cast<unsigned>(x)) + 1; }
template <class T>
T __ldg(const T* address) {
  return *address;
}
