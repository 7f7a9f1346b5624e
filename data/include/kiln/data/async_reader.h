#pragma once
// The asynchronous image reader: a pool of decoder threads turns an epoch's order over an ItemLoader's items into
// batches (decode, resize, augment, normalise, batch) ahead of the trainer, at most `prefetch` batches ahead, and hands
// them over in order. One consumer thread calls start_epoch and next; stop may come from any thread.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kiln/data/dataset.h"
#include "kiln/data/item_loader.h"

namespace kiln::data {

struct ReaderOptions {
  int threads = 4;   // decoder threads
  int prefetch = 0;  // batches decoded or decoding ahead of the consumer; 0 means 2 * threads
  // Batches in page-locked host memory, so that copying them to a GPU needs no staging. Needs a usable CUDA device.
  bool pin_memory = false;
  // Unreadable or corrupt images are left out of their batch and reported (true), or end the epoch with an error
  // naming the file, rethrown by next() (false).
  bool skip_unreadable = true;
  // Called on a decoder thread the first time a file is skipped (not again in later epochs); by default prints
  // "kiln: skipped PATH: REASON" to stderr. An exception it throws ends the epoch like a decoder error.
  std::function<void(const SkippedFile&)> on_skipped;
};

struct EpochPlan {
  std::vector<std::int64_t> order;  // item indices; batch b takes order[b * batch_size, (b + 1) * batch_size)
  std::int64_t batch_size = 1;
  // The epoch whose augmentation draws apply, or none for unaugmented batches (validation, evaluation).
  std::optional<std::int64_t> augment_epoch;
};

// A seeded permutation of 0..count-1 for one epoch; each epoch uses its own Philox counters.
std::vector<std::int64_t> shuffled_order(std::int64_t count, std::uint64_t seed, std::int64_t epoch);
// 0..count-1.
std::vector<std::int64_t> sequential_order(std::int64_t count);

class AsyncImageReader {
 public:
  AsyncImageReader(std::shared_ptr<const ItemLoader> dataset, ReaderOptions options);
  ~AsyncImageReader();  // stops the epoch and joins the decoder threads
  AsyncImageReader(const AsyncImageReader&) = delete;
  AsyncImageReader& operator=(const AsyncImageReader&) = delete;

  // Starts decoding an epoch's batches; what is left of the previous epoch is abandoned. The batch size may differ
  // from epoch to epoch.
  void start_epoch(EpochPlan plan);
  // The epoch's next batch, waiting for it if needed; none after the last batch or after stop(). A batch holds fewer
  // rows than batch_size when it is the last or when files in it were skipped (a batch with none left is passed
  // over). The tensors stay valid for as long as the caller holds them; their memory is reused after that. A
  // decoder's error is rethrown here (naming the file), in batch order, and ends the epoch.
  std::optional<Batch> next();
  // Abandons the epoch: decoders stop after their current image and a waiting next() returns none.
  void stop();

  std::int64_t batch_count() const;          // of the current epoch
  std::vector<SkippedFile> skipped() const;  // every file skipped so far
  const ItemLoader& dataset() const { return *dataset_; }

 private:
  struct Result {
    Batch batch;
    std::exception_ptr error;
  };
  void decode_loop();
  Result decode_batch(const EpochPlan& plan, std::int64_t batch, std::uint64_t generation,
                      const std::shared_ptr<Storage>& buffer, ImageScratch& scratch);
  std::optional<Result>& ready_slot(std::int64_t batch);  // with mutex_ held
  std::shared_ptr<Storage> acquire_buffer(std::int64_t rows);  // with mutex_ held
  // Adds a batch's skipped files to skipped_ and returns those not reported before (takes mutex_).
  std::vector<SkippedFile> record_skipped(const std::vector<SkippedFile>& skipped);
  void abandon_epoch();                                        // with mutex_ held

  std::shared_ptr<const ItemLoader> dataset_;
  ReaderOptions options_;
  int prefetch_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable work_ready_, batch_ready_;
  bool shutting_down_ = false;
  bool active_ = false;
  // Bumped whenever an epoch starts or is abandoned, so that decoders drop work of an older epoch.
  std::atomic<std::uint64_t> generation_ = 0;
  std::shared_ptr<const EpochPlan> plan_;
  std::int64_t batch_count_ = 0, next_to_claim_ = 0, next_to_deliver_ = 0;
  // Decoded batches not yet delivered: batch b in slot b % prefetch_, since only batches next_to_deliver_ ..
  // next_to_deliver_ + prefetch_ - 1 are ever claimed (a fixed table, so that handing over a batch allocates nothing).
  std::vector<std::optional<Result>> ready_;
  std::vector<SkippedFile> skipped_;
  std::set<std::string> reported_;  // paths passed to on_skipped
  // Batch buffers (images then labels in one block): a buffer is free again when the pool holds its only reference.
  std::vector<std::shared_ptr<Storage>> buffers_;
  std::vector<std::thread> threads_;
};

}  // namespace kiln::data
