#include "kernels/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace kiln::kernels {
namespace {

thread_local bool inside_parallel_region = false;

std::atomic<bool> flushing_denormals{[] {
  const char* text = std::getenv("KILN_FLUSH_DENORMALS");
  return text == nullptr || std::string_view(text) != "0";
}()};

// Puts this thread's floating-point unit in kiln's denormal mode for the kernel work of its lifetime, and gives back
// the thread's own mode (only the mode: exception flags raised meanwhile stay raised) when it ends. x86's MXCSR:
// flush-to-zero (bit 15) and denormals-are-zero (bit 6); elsewhere nothing.
class DenormalMode {
 public:
#if defined(__SSE__)
  DenormalMode() : saved_(_mm_getcsr()) { set_mode(flushing_denormals ? mode_bits : 0u); }
  ~DenormalMode() { set_mode(saved_ & mode_bits); }
  DenormalMode(const DenormalMode&) = delete;
  DenormalMode& operator=(const DenormalMode&) = delete;

 private:
  static constexpr unsigned mode_bits = 0x8040;
  static void set_mode(unsigned bits) {
    const unsigned current = _mm_getcsr();
    if ((current & mode_bits) != bits) _mm_setcsr((current & ~mode_bits) | bits);
  }
  unsigned saved_;
#endif
};

int threads_from_environment() {
  if (const char* text = std::getenv("KILN_NUM_THREADS")) {
    const int value = std::atoi(text);
    if (value > 0) return value;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

// Workers wait for a job; each job is a chunk count and a body; chunks are claimed through a shared counter.
class ThreadPool {
 public:
  explicit ThreadPool(int threads) : wanted_threads_(threads) {}
  ~ThreadPool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& worker : workers_) worker.join();
  }

  int threads() const { return wanted_threads_; }
  void set_threads(int threads) {
    std::lock_guard run_lock(run_mutex_);
    wanted_threads_ = std::max(1, threads);
  }

  void run(std::int64_t chunks, FunctionRef<void(std::int64_t)> chunk_body) {
    std::lock_guard run_lock(run_mutex_);  // one parallel region at a time
    ensure_workers();
    {
      std::lock_guard lock(mutex_);
      body_ = &chunk_body;
      chunk_count_ = chunks;
      next_chunk_ = 0;
      unfinished_ = chunks;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    work();
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return unfinished_ == 0; });
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void ensure_workers() {
    while (static_cast<int>(workers_.size()) < wanted_threads_ - 1) {
      workers_.emplace_back([this] { worker_loop(); });
    }
  }

  void worker_loop() {
    std::uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      work();
    }
  }

  // Claims and runs chunks until none are left.
  void work() {
    const DenormalMode mode;
    inside_parallel_region = true;
    for (;;) {
      std::int64_t chunk;
      const FunctionRef<void(std::int64_t)>* body;
      {
        std::lock_guard lock(mutex_);
        if (body_ == nullptr || next_chunk_ >= chunk_count_) break;
        chunk = next_chunk_++;
        body = body_;
      }
      std::exception_ptr error;
      try {
        (*body)(chunk);
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard lock(mutex_);
      if (error && !error_) error_ = error;
      if (--unfinished_ == 0) done_.notify_all();
    }
    inside_parallel_region = false;
  }

  int wanted_threads_;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const FunctionRef<void(std::int64_t)>* body_ = nullptr;
  std::int64_t chunk_count_ = 0, next_chunk_ = 0, unfinished_ = 0;
  std::uint64_t generation_ = 0;
  std::exception_ptr error_;
  bool stopping_ = false;
};

ThreadPool& pool() {
  static ThreadPool instance(threads_from_environment());
  return instance;
}

}  // namespace

int num_threads() { return pool().threads(); }
void set_num_threads(int threads) { pool().set_threads(threads); }
bool in_parallel_region() { return inside_parallel_region; }
void set_flush_denormals(bool flush) { flushing_denormals = flush; }
bool flush_denormals() { return flushing_denormals; }

void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain,
                  FunctionRef<void(std::int64_t, std::int64_t)> body) {
  const std::int64_t items = end - begin;
  if (items <= 0) return;
  const DenormalMode mode;  // the caller's thread too, for the serial case and its share of the chunks
  grain = std::max<std::int64_t>(1, grain);
  const std::int64_t threads = inside_parallel_region ? 1 : num_threads();
  const std::int64_t chunks = std::min(threads, (items + grain - 1) / grain);
  if (chunks <= 1) {
    body(begin, end);
    return;
  }
  const std::int64_t per_chunk = (items + chunks - 1) / chunks;
  pool().run(chunks, [&](std::int64_t chunk) {
    const std::int64_t chunk_begin = begin + chunk * per_chunk;
    const std::int64_t chunk_end = std::min(end, chunk_begin + per_chunk);
    if (chunk_begin < chunk_end) body(chunk_begin, chunk_end);
  });
}

}  // namespace kiln::kernels
