// The SIMT emulator's runtime: fibers on Boost.Context's fcontext (8 ns a switch, no signal-mask syscall as with
// ucontext), the per-block scheduler with its deadlock checks, launches over OS threads, and the CUDA host API.
#include "kernels/simt/emulator.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <boost/context/detail/fcontext.hpp>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "kiln/error.h"

#if defined(__SANITIZE_ADDRESS__)
#define KILN_SIMT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KILN_SIMT_ASAN 1
#endif
#endif
#if defined(KILN_SIMT_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace kiln::simt {
namespace {

namespace fc = boost::context::detail;

constexpr std::size_t stack_bytes = 64 * 1024;  // a fiber uses a few KiB; pages are only backed when touched
constexpr std::size_t max_dynamic_shared = 48 * 1024;  // CUDA's limit without cudaFuncSetAttribute
constexpr std::uint64_t max_blocks = 1ull << 32;        // keeps the random block permutation within 64 bits

// ASan must be told of every stack switch, or it takes fiber stacks for an overflow of the OS thread's stack.
void start_switch([[maybe_unused]] void** fake_stack, [[maybe_unused]] const void* bottom,
                  [[maybe_unused]] std::size_t size) {
#if defined(KILN_SIMT_ASAN)
  __sanitizer_start_switch_fiber(fake_stack, bottom, size);
#endif
}
void finish_switch([[maybe_unused]] void* fake_stack, [[maybe_unused]] const void** old_bottom,
                   [[maybe_unused]] std::size_t* old_size) {
#if defined(KILN_SIMT_ASAN)
  __sanitizer_finish_switch_fiber(fake_stack, old_bottom, old_size);
#endif
}
// A stack left by an abandoned fiber (or a finished one, which never returns from its entry) keeps its redzones.
void unpoison([[maybe_unused]] void* memory, [[maybe_unused]] std::size_t size) {
#if defined(KILN_SIMT_ASAN)
  __asan_unpoison_memory_region(memory, size);
#endif
}

// Stacks for the fibers of one block: one mapping, each stack above a PROT_NONE guard page.
class StackArena {
 public:
  explicit StackArena(int count)
      : count_(count), page_(static_cast<std::size_t>(sysconf(_SC_PAGESIZE))), stride_(stack_bytes + page_) {
    void* base = mmap(nullptr, stride_ * static_cast<std::size_t>(count), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) fail("kiln::simt: cannot map ", count, " fiber stacks");
    base_ = static_cast<char*>(base);
    for (int i = 0; i < count; ++i) mprotect(bottom(i) - page_, page_, PROT_NONE);
  }
  ~StackArena() { munmap(base_, stride_ * static_cast<std::size_t>(count_)); }
  StackArena(const StackArena&) = delete;
  StackArena& operator=(const StackArena&) = delete;

  int count() const { return count_; }
  // The lowest address of stack i; it grows down from bottom(i) + stack_bytes.
  char* bottom(int i) const { return base_ + static_cast<std::size_t>(i) * stride_ + page_; }

 private:
  int count_;
  std::size_t page_;
  std::size_t stride_;
  char* base_ = nullptr;
};

// Arenas outlive launches: mapping and guarding 1024 stacks costs about a millisecond.
class StackPool {
 public:
  std::unique_ptr<StackArena> acquire(int count) {
    const std::lock_guard lock(mutex_);
    const auto fits = std::find_if(free_.begin(), free_.end(), [&](const auto& a) { return a->count() >= count; });
    if (fits == free_.end()) {
      return std::make_unique<StackArena>(static_cast<int>(std::bit_ceil(static_cast<unsigned>(count))));
    }
    std::unique_ptr<StackArena> arena = std::move(*fits);
    free_.erase(fits);
    return arena;
  }
  void release(std::unique_ptr<StackArena> arena) {
    const std::lock_guard lock(mutex_);
    free_.push_back(std::move(arena));
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<StackArena>> free_;
};

StackPool& stack_pool() {
  static StackPool pool;
  return pool;
}

enum class State { ready, at_block_barrier, at_warp_collective, exited };

struct Fiber {
  fc::fcontext_t context = nullptr;
  State state = State::ready;
  // The collective it waits at, and what it brought there (value is the predicate at a block barrier).
  const char* op = "";
  unsigned mask = 0;
  std::uint64_t value = 0;
  int source = 0;
  detail::WarpResult result{};  // what the release hands back
};

std::string hex(unsigned mask) {
  char text[10] = "0x";
  return {text, std::to_chars(text + 2, text + sizeof text, mask, 16).ptr};
}

template <class Body>
void for_each_lane(unsigned lanes, Body body) {
  for (; lanes != 0; lanes &= lanes - 1) body(std::countr_zero(lanes));
}

void fiber_main(fc::transfer_t from_scheduler);

// Runs the blocks one OS thread takes, one at a time, with a fiber per CUDA thread.
class BlockRunner {
 public:
  BlockRunner(const Launch& launch, const Options& launch_options)
      : launch_(launch),
        options_(launch_options),
        threads_(static_cast<int>(launch.block.x * launch.block.y * launch.block.z)),
        stacks_(stack_pool().acquire(threads_)),
        fibers_(static_cast<std::size_t>(threads_)),
        order_(static_cast<std::size_t>(threads_)),
        shared_(launch.shared_bytes) {
    active_ = this;
    blockDim = launch.block;
    gridDim = launch.grid;
  }
  ~BlockRunner() {
    active_ = nullptr;
    stack_pool().release(std::move(stacks_));
  }
  BlockRunner(const BlockRunner&) = delete;
  BlockRunner& operator=(const BlockRunner&) = delete;

  static BlockRunner& active() {
    if (active_ == nullptr) fail("kiln::simt: a device function was called outside a kernel");
    return *active_;
  }

  void run_block(std::uint64_t block) {
    const dim3 grid = launch_.grid;
    blockIdx = {static_cast<unsigned>(block % grid.x), static_cast<unsigned>(block / grid.x % grid.y),
                static_cast<unsigned>(block / grid.x / grid.y)};
    std::fill(shared_.begin(), shared_.end(), std::byte{0xff});  // reads before writes show up as NaN or -1
    for (int i = 0; i < threads_; ++i) {
      unpoison(stacks_->bottom(i), stack_bytes);
      fiber(i) = {};
      fiber(i).context = fc::make_fcontext(stacks_->bottom(i) + stack_bytes, stack_bytes, fiber_main);
    }
    std::iota(order_.begin(), order_.end(), 0);
    if (options_.order == Order::reverse) std::reverse(order_.begin(), order_.end());
    if (options_.order == Order::random) {
      std::shuffle(order_.begin(), order_.end(), std::mt19937_64(options_.seed * 0x9e3779b97f4a7c15ull + block));
    }
    // Each pass runs every ready fiber until it parks or exits; then the scheduler releases what it can.
    for (;;) {
      for (const int i : order_) {
        if (fiber(i).state == State::ready) resume(i);
      }
      if (std::all_of(fibers_.begin(), fibers_.end(), [](const Fiber& f) { return f.state == State::exited; })) {
        return;
      }
      if (!release_warp_collectives()) release_block_barrier();
    }
  }

  // Device side: the calling fiber parks at a barrier or collective and suspends until the scheduler releases it.
  Fiber& current() { return fiber(current_); }
  int lane() const { return current_ % warpSize; }
  int threads() const { return threads_; }
  void* shared_memory() { return shared_.data(); }
  void suspend() {
    void* fake_stack = nullptr;
    start_switch(&fake_stack, scheduler_stack_, scheduler_stack_size_);
    scheduler_ = fc::jump_fcontext(scheduler_, nullptr).fctx;
    finish_switch(fake_stack, &scheduler_stack_, &scheduler_stack_size_);
  }
  [[noreturn]] void fail_in_kernel(const std::string& what) const {
    const uint3 b = blockIdx;
    fail("kiln::simt: kernel '", launch_.kernel_name, "', block (", b.x, ",", b.y, ",", b.z, "): ", what);
  }

 private:
  friend void fiber_main(fc::transfer_t from_scheduler);

  Fiber& fiber(int i) { return fibers_[static_cast<std::size_t>(i)]; }
  Fiber& lane_fiber(int warp, int lane) { return fiber(warp * warpSize + lane); }
  // The lanes of a warp that the block has (the last warp may be partial).
  unsigned present_lanes(int warp) const {
    const int lanes = std::min(warpSize, threads_ - warp * warpSize);
    return lanes == warpSize ? ~0u : (1u << lanes) - 1;
  }

  void resume(int i) {
    current_ = i;
    const unsigned x = launch_.block.x, y = launch_.block.y, u = static_cast<unsigned>(i);
    threadIdx = {u % x, u / x % y, u / x / y};
    void* fake_stack = nullptr;
    start_switch(&fake_stack, stacks_->bottom(i), stack_bytes);
    fiber(i).context = fc::jump_fcontext(fiber(i).context, this).fctx;
    finish_switch(fake_stack, nullptr, nullptr);
    if (kernel_error_) std::rethrow_exception(std::exchange(kernel_error_, nullptr));
  }

  // Releases every warp group whose lanes (its mask less missing lanes) all wait at one collective with one mask.
  bool release_warp_collectives() {
    bool released = false;
    for (int w = 0; w * warpSize < threads_; ++w) {
      for_each_lane(present_lanes(w), [&](int lane) {
        const Fiber& first = lane_fiber(w, lane);
        if (first.state != State::at_warp_collective) return;
        const unsigned group = first.mask & present_lanes(w);
        bool complete = true;
        unsigned ballot = 0;
        for_each_lane(group, [&](int m) {
          const Fiber& f = lane_fiber(w, m);
          complete = complete && f.state == State::at_warp_collective && f.mask == first.mask &&
                     std::string_view(f.op) == first.op;
          ballot |= f.value != 0 ? 1u << m : 0u;
        });
        if (!complete) return;
        for_each_lane(group, [&](int m) {
          Fiber& f = lane_fiber(w, m);
          if (!(group >> f.source & 1u)) {
            fail_in_kernel("thread " + std::to_string(w * warpSize + m) + " calls " + f.op + " reading lane " +
                           std::to_string(f.source) + ", outside its mask " + hex(f.mask));
          }
          f.result = {lane_fiber(w, f.source).value, ballot, group};
        });
        for_each_lane(group, [&](int m) { lane_fiber(w, m).state = State::ready; });
        released = true;
      });
    }
    return released;
  }

  // Every fiber is parked or has exited and no warp group can go on: either all wait at the block barrier, or the
  // block can never finish.
  void release_block_barrier() {
    const auto count = [&](auto predicate) { return std::count_if(fibers_.begin(), fibers_.end(), predicate); };
    const auto at_barrier = count([](const Fiber& f) { return f.state == State::at_block_barrier; });
    if (at_barrier == threads_) {
      const auto arrived = count([](const Fiber& f) { return f.value != 0; });
      for (Fiber& f : fibers_) {
        f.result.value = static_cast<std::uint64_t>(arrived);
        f.state = State::ready;
      }
      return;
    }
    if (at_barrier > 0) {
      const auto exited = count([](const Fiber& f) { return f.state == State::exited; });
      fail_in_kernel("deadlock: " + std::to_string(at_barrier) + " of " + std::to_string(threads_) +
                     " threads wait at __syncthreads while " + std::to_string(exited) + " have exited and " +
                     std::to_string(threads_ - at_barrier - exited) + " wait at warp collectives");
    }
    fail_in_kernel("deadlock: " + describe_stuck_warp_group());
  }

  std::string describe_stuck_warp_group() {
    for (int i = 0; i < threads_; ++i) {
      const Fiber& f = fiber(i);
      if (f.state != State::at_warp_collective) continue;
      const std::string head = "thread " + std::to_string(i) + " waits at " + f.op + " with mask " + hex(f.mask) +
                               " but lane ";
      for (int m = 0; m < warpSize; ++m) {
        if (!(f.mask & present_lanes(i / warpSize) & 1u << m)) continue;
        const Fiber& other = lane_fiber(i / warpSize, m);
        if (other.state == State::exited) return head + std::to_string(m) + " of its warp has exited";
        if (other.mask != f.mask || std::string_view(other.op) != f.op) {
          return head + std::to_string(m) + " of its warp waits at " + other.op + " with mask " + hex(other.mask);
        }
      }
    }
    return "no thread can go on";
  }

  const Launch& launch_;
  const Options& options_;
  int threads_;
  std::unique_ptr<StackArena> stacks_;
  std::vector<Fiber> fibers_;
  std::vector<int> order_;
  std::vector<std::byte> shared_;
  int current_ = 0;
  fc::fcontext_t scheduler_ = nullptr;
  const void* scheduler_stack_ = nullptr;
  std::size_t scheduler_stack_size_ = 0;
  std::exception_ptr kernel_error_;
  static thread_local BlockRunner* active_;
};

thread_local BlockRunner* BlockRunner::active_ = nullptr;

// A fiber's whole life: run the kernel as one CUDA thread, then hand control back for good.
void fiber_main(fc::transfer_t from_scheduler) {
  BlockRunner& runner = *static_cast<BlockRunner*>(from_scheduler.data);
  finish_switch(nullptr, &runner.scheduler_stack_, &runner.scheduler_stack_size_);
  runner.scheduler_ = from_scheduler.fctx;
  try {
    runner.launch_.run(runner.launch_.args);
  } catch (...) {
    runner.kernel_error_ = std::current_exception();  // rethrown by the scheduler, off this stack
  }
  runner.current().state = State::exited;
  start_switch(nullptr, runner.scheduler_stack_, runner.scheduler_stack_size_);  // nullptr: this stack is done
  fc::jump_fcontext(runner.scheduler_, nullptr);                                 // never resumed
}

std::mutex options_mutex;

Options environment_options() {
  Options result;
  if (const char* order = std::getenv("KILN_SIMT_ORDER")) {
    const std::string_view name(order);
    if (name == "forward") {
      result.order = Order::forward;
    } else if (name == "reverse") {
      result.order = Order::reverse;
    } else if (name == "random") {
      result.order = Order::random;
    } else {
      fail("KILN_SIMT_ORDER must be forward, reverse or random, not '", name, "'");
    }
  }
  const auto number = [](const char* variable, auto& target, long long least) {
    const char* text = std::getenv(variable);
    if (text == nullptr) return;
    const std::string_view digits(text);
    long long value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size() || value < least) {
      fail(variable, " must be an integer of at least ", least, ", not '", digits, "'");
    }
    target = static_cast<std::remove_reference_t<decltype(target)>>(value);
  };
  number("KILN_SIMT_SEED", result.seed, 0);
  number("KILN_SIMT_THREADS", result.os_threads, 1);
  number("KILN_SIMT_DEVICE_MEMORY", result.device_memory, 0);
  return result;
}

Options& current_options() {
  static Options current = environment_options();
  return current;
}

template <class... Parts>
[[noreturn]] void invalid_launch(const Launch& launch, const Parts&... parts) {
  fail("kiln::simt: kernel '", launch.kernel_name, "': invalid launch configuration: ", parts...);
}

void validate(const Launch& launch) {
  const dim3 b = launch.block, g = launch.grid;
  const std::uint64_t threads = std::uint64_t{b.x} * b.y * b.z;
  if (threads == 0 || threads > 1024 || b.z > 64) {
    invalid_launch(launch, "block (", b.x, ",", b.y, ",", b.z, ") has ", threads,
                   " threads; CUDA allows 1 to 1024, with z at most 64");
  }
  if (g.x == 0 || g.y == 0 || g.z == 0 || g.x > INT_MAX || g.y > 65535 || g.z > 65535) {
    invalid_launch(launch, "grid (", g.x, ",", g.y, ",", g.z, ") is outside CUDA's limits");
  }
  if (std::uint64_t{g.x} * g.y * g.z >= max_blocks) {
    invalid_launch(launch, "grid (", g.x, ",", g.y, ",", g.z, ") has more blocks than the emulator runs");
  }
  if (launch.shared_bytes > max_dynamic_shared) {
    invalid_launch(launch, launch.shared_bytes, " bytes of dynamic shared memory exceed 48 KiB");
  }
}

// Block i of the launch order: identity, reversed, or an affine permutation (a * i + c) mod n with gcd(a, n) = 1.
class BlockOrder {
 public:
  BlockOrder(const Options& launch_options, std::uint64_t blocks) : order_(launch_options.order), blocks_(blocks) {
    if (order_ != Order::random || blocks < 2) return;
    std::mt19937_64 rng(launch_options.seed);
    do {
      stride_ = rng() % (blocks - 1) + 1;
    } while (std::gcd(stride_, blocks) != 1);
    offset_ = rng() % blocks;
  }
  std::uint64_t operator()(std::uint64_t i) const {
    if (order_ == Order::reverse) return blocks_ - 1 - i;
    return order_ == Order::random ? (stride_ * i + offset_) % blocks_ : i;
  }

 private:
  Order order_;
  std::uint64_t blocks_;
  std::uint64_t stride_ = 1;
  std::uint64_t offset_ = 0;
};

int block_barrier(int predicate) {
  BlockRunner& runner = BlockRunner::active();
  Fiber& fiber = runner.current();
  fiber.state = State::at_block_barrier;
  fiber.value = predicate != 0;
  runner.suspend();
  return static_cast<int>(fiber.result.value);  // how many threads brought a nonzero predicate
}

detail::WarpResult vote(const char* op, unsigned mask, int predicate) {
  return detail::warp_collective(op, mask, predicate != 0, BlockRunner::active().lane());
}

}  // namespace

Options options() {
  const std::lock_guard lock(options_mutex);
  return current_options();
}

void set_options(const Options& new_options) {
  KILN_CHECK(new_options.os_threads >= 1, "kiln::simt: os_threads must be at least 1, not ", new_options.os_threads);
  const std::lock_guard lock(options_mutex);
  current_options() = new_options;
}

void* dynamic_shared_memory() { return BlockRunner::active().shared_memory(); }

void run(const Launch& launch) {
  validate(launch);
  const Options launch_options = options();
  const std::uint64_t blocks = std::uint64_t{launch.grid.x} * launch.grid.y * launch.grid.z;
  const BlockOrder order(launch_options, blocks);
  std::atomic<std::uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::exception_ptr error;
  const auto work = [&] {
    try {
      BlockRunner runner(launch, launch_options);
      for (std::uint64_t i = next++; i < blocks && !failed; i = next++) runner.run_block(order(i));
    } catch (...) {
      const std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  const auto workers = std::min<std::uint64_t>(static_cast<std::uint64_t>(launch_options.os_threads), blocks);
  if (workers == 1) {
    work();
  } else {
    std::vector<std::jthread> pool;
    for (std::uint64_t w = 0; w < workers; ++w) pool.emplace_back(work);
  }
  if (error) std::rethrow_exception(error);
}

namespace detail {

WarpResult warp_collective(const char* op, unsigned mask, std::uint64_t value, int source_lane) {
  BlockRunner& runner = BlockRunner::active();
  if (!(mask >> runner.lane() & 1u)) {
    runner.fail_in_kernel("lane " + std::to_string(runner.lane()) + " calls " + op + " with mask " + hex(mask) +
                          ", which does not include it");
  }
  Fiber& fiber = runner.current();
  fiber.state = State::at_warp_collective;
  fiber.op = op;
  fiber.mask = mask;
  fiber.value = value;
  fiber.source = source_lane;
  runner.suspend();
  return fiber.result;
}

int shuffle_source(ShuffleMode mode, unsigned operand, int width) {
  BlockRunner& runner = BlockRunner::active();
  if (width < 1 || width > warpSize || !std::has_single_bit(static_cast<unsigned>(width))) {
    runner.fail_in_kernel("shuffle width " + std::to_string(width) + " is not a power of two up to 32");
  }
  const int lane = runner.lane(), b = static_cast<int>(operand & 31u);
  const int first = lane & ~(width - 1), last = first + width - 1;
  if (mode == ShuffleMode::index) return first + (b & (width - 1));
  if (mode == ShuffleMode::up) return lane - b >= first ? lane - b : lane;
  const int source = mode == ShuffleMode::down ? lane + b : lane ^ b;
  return source <= last ? source : lane;
}

}  // namespace detail
}  // namespace kiln::simt

void __syncthreads() { kiln::simt::block_barrier(1); }
int __syncthreads_count(int predicate) { return kiln::simt::block_barrier(predicate); }
int __syncthreads_and(int predicate) {
  return kiln::simt::block_barrier(predicate) == kiln::simt::BlockRunner::active().threads();
}
int __syncthreads_or(int predicate) { return kiln::simt::block_barrier(predicate) > 0; }
void __syncwarp(unsigned mask) { kiln::simt::vote("__syncwarp", mask, 0); }
unsigned __ballot_sync(unsigned mask, int predicate) {
  return kiln::simt::vote("__ballot_sync", mask, predicate).ballot;
}
int __any_sync(unsigned mask, int predicate) { return kiln::simt::vote("__any_sync", mask, predicate).ballot != 0; }
int __all_sync(unsigned mask, int predicate) {
  const kiln::simt::detail::WarpResult result = kiln::simt::vote("__all_sync", mask, predicate);
  return result.ballot == result.group;
}

// The CUDA runtime for one emulated device whose memory is host memory; streams and events run synchronously.
struct CUevent_st {
  std::chrono::steady_clock::time_point time;
};

namespace {
thread_local cudaError_t last_error = cudaSuccess;
constexpr std::align_val_t device_alignment{256};  // cudaMalloc's guarantee

cudaError_t record(cudaError_t status) {
  if (status != cudaSuccess) last_error = status;
  return status;
}

// The emulated device's allocations, so that a memory cap (Options::device_memory) can be enforced and reported.
struct DeviceMemory {
  std::mutex mutex;
  std::unordered_map<void*, std::size_t> blocks;
  std::size_t in_use = 0;
};
DeviceMemory& device_memory() {
  static DeviceMemory* memory = new DeviceMemory;  // never destroyed: tensors may be freed during static teardown
  return *memory;
}
}  // namespace

extern "C" {

cudaError_t cudaMalloc(void** pointer, size_t size) {
  if (pointer == nullptr) return record(cudaErrorInvalidValue);
  *pointer = nullptr;
  if (size == 0) return cudaSuccess;
  const std::size_t cap = kiln::simt::options().device_memory;
  DeviceMemory& memory = device_memory();
  const std::lock_guard lock(memory.mutex);
  if (cap != 0 && (memory.in_use > cap || size > cap - memory.in_use)) return record(cudaErrorMemoryAllocation);
  *pointer = ::operator new(size, device_alignment, std::nothrow);
  if (*pointer == nullptr) return record(cudaErrorMemoryAllocation);
  memory.blocks.emplace(*pointer, size);
  memory.in_use += size;
  return cudaSuccess;
}

cudaError_t cudaFree(void* pointer) {
  if (pointer == nullptr) return cudaSuccess;
  DeviceMemory& memory = device_memory();
  {
    const std::lock_guard lock(memory.mutex);
    const auto block = memory.blocks.find(pointer);
    if (block == memory.blocks.end()) return record(cudaErrorInvalidValue);
    memory.in_use -= block->second;
    memory.blocks.erase(block);
  }
  ::operator delete(pointer, device_alignment);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* destination, const void* source, size_t count, cudaMemcpyKind kind) {
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) return record(cudaErrorInvalidMemcpyDirection);
  if (count != 0) std::memcpy(destination, source, count);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* destination, const void* source, size_t count, cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(destination, source, count, kind);
}

cudaError_t cudaMemset(void* destination, int value, size_t count) {
  if (count != 0) std::memset(destination, value, count);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* destination, int value, size_t count, cudaStream_t) {
  return cudaMemset(destination, value, count);
}

cudaError_t cudaGetLastError() { return std::exchange(last_error, cudaSuccess); }

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    default: return "unrecognized error code";
  }
}

cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  if (event == nullptr) return record(cudaErrorInvalidValue);
  *event = new CUevent_st{std::chrono::steady_clock::now()};
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  if (event == nullptr) return record(cudaErrorInvalidResourceHandle);
  event->time = std::chrono::steady_clock::now();
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  return event == nullptr ? record(cudaErrorInvalidResourceHandle) : cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* milliseconds, cudaEvent_t start, cudaEvent_t end) {
  if (milliseconds == nullptr) return record(cudaErrorInvalidValue);
  if (start == nullptr || end == nullptr) return record(cudaErrorInvalidResourceHandle);
  *milliseconds = std::chrono::duration<float, std::milli>(end->time - start->time).count();
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (count == nullptr) return record(cudaErrorInvalidValue);
  *count = 1;
  return cudaSuccess;
}

// The emulated device describes itself as such; its figures are the emulator's limits, not a real GPU's.
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* properties, int device) {
  if (properties == nullptr) return record(cudaErrorInvalidValue);
  if (device != 0) return record(cudaErrorInvalidDevice);
  *properties = cudaDeviceProp{};
  std::snprintf(properties->name, sizeof properties->name, "kiln SIMT emulator");
  properties->major = 9;
  properties->minor = 0;
  const std::size_t cap = kiln::simt::options().device_memory;
  properties->totalGlobalMem =
      cap != 0 ? cap : static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
  properties->warpSize = warpSize;
  properties->maxThreadsPerBlock = 1024;
  properties->sharedMemPerBlock = 48 * 1024;
  properties->multiProcessorCount = 1;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  if (version == nullptr) return record(cudaErrorInvalidValue);
  *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* version) { return cudaDriverGetVersion(version); }

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : record(cudaErrorInvalidDevice); }

cudaError_t cudaGetDevice(int* device) {
  if (device == nullptr) return record(cudaErrorInvalidValue);
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total) {
  if (free_bytes == nullptr || total == nullptr) return record(cudaErrorInvalidValue);
  if (const std::size_t cap = kiln::simt::options().device_memory; cap != 0) {
    DeviceMemory& memory = device_memory();
    const std::lock_guard lock(memory.mutex);
    *free_bytes = memory.in_use < cap ? cap - memory.in_use : 0;
    *total = cap;
    return cudaSuccess;
  }
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  *free_bytes = static_cast<size_t>(sysconf(_SC_AVPHYS_PAGES)) * page;
  *total = static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * page;
  return cudaSuccess;
}

}  // extern "C"
