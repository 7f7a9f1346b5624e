#include "kiln/data/async_reader.h"

#include <algorithm>
#include <iostream>
#include <numeric>

#include "kiln/error.h"
#include "kiln/pool_allocator.h"
#include "kiln/random.h"

namespace kiln::data {

namespace {

constexpr std::size_t labels_alignment = 64;

std::size_t images_bytes(const ItemLoader& dataset, std::int64_t rows) {
  const std::size_t bytes = static_cast<std::size_t>(rows * image_row_elements(dataset)) * sizeof(float);
  return (bytes + labels_alignment - 1) / labels_alignment * labels_alignment;
}

// A tensor over part of a batch buffer (its handle pooled, as every op's is).
Tensor view(const std::shared_ptr<Storage>& buffer, std::size_t offset_bytes, const Shape& shape, DType dtype) {
  auto impl = make_pooled<TensorImpl>();
  impl->storage = buffer;
  impl->offset_bytes = offset_bytes;
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

void print_skipped(const SkippedFile& file) { std::cerr << ("kiln: skipped " + file.path + ": " + file.reason + "\n"); }

}  // namespace

std::vector<std::int64_t> sequential_order(std::int64_t count) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(std::max<std::int64_t>(count, 0)));
  std::iota(order.begin(), order.end(), 0);
  return order;
}

std::vector<std::int64_t> shuffled_order(std::int64_t count, std::uint64_t seed, std::int64_t epoch) {
  // A permutation consumes count - 1 counters, so epoch e starting at e * count never overlaps another epoch.
  Generator generator(seed);
  generator.set_state({seed, static_cast<std::uint64_t>(epoch) * static_cast<std::uint64_t>(count)});
  return permutation(count, generator);
}

AsyncImageReader::AsyncImageReader(std::shared_ptr<const ItemLoader> dataset, ReaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  KILN_CHECK(dataset_ != nullptr, "AsyncImageReader: no dataset");
  KILN_CHECK(options_.threads > 0, "AsyncImageReader: needs at least one decoder thread, got ", options_.threads);
  KILN_CHECK(options_.prefetch >= 0, "AsyncImageReader: prefetch must not be negative, got ", options_.prefetch);
  KILN_CHECK(!options_.pin_memory || cuda_device_count() > 0,
             "AsyncImageReader: pinned memory needs a usable CUDA device: ", cuda_status_line());
  prefetch_ = options_.prefetch > 0 ? options_.prefetch : 2 * options_.threads;
  ready_.resize(static_cast<std::size_t>(prefetch_));
  if (!options_.on_skipped) options_.on_skipped = print_skipped;
  threads_.reserve(static_cast<std::size_t>(options_.threads));
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { decode_loop(); });
}

AsyncImageReader::~AsyncImageReader() {
  {
    const std::lock_guard lock(mutex_);
    shutting_down_ = true;
    abandon_epoch();
  }
  work_ready_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void AsyncImageReader::abandon_epoch() {
  ++generation_;
  active_ = false;
  for (std::optional<Result>& slot : ready_) slot.reset();
  batch_ready_.notify_all();
}

void AsyncImageReader::start_epoch(EpochPlan plan) {
  KILN_CHECK(plan.batch_size > 0, "AsyncImageReader: batch size must be positive, got ", plan.batch_size);
  for (const std::int64_t index : plan.order) {
    KILN_CHECK(index >= 0 && index < dataset_->size(), "AsyncImageReader: index ", index,
               " in the epoch order is outside a set of ", dataset_->size(), " images");
  }
  {
    const std::lock_guard lock(mutex_);
    abandon_epoch();
    const auto count = static_cast<std::int64_t>(plan.order.size());
    batch_count_ = (count + plan.batch_size - 1) / plan.batch_size;
    plan_ = std::make_shared<const EpochPlan>(std::move(plan));
    next_to_claim_ = next_to_deliver_ = 0;
    active_ = true;
  }
  work_ready_.notify_all();
}

void AsyncImageReader::stop() {
  {
    const std::lock_guard lock(mutex_);
    abandon_epoch();
  }
  work_ready_.notify_all();
}

std::int64_t AsyncImageReader::batch_count() const {
  const std::lock_guard lock(mutex_);
  return batch_count_;
}

std::vector<SkippedFile> AsyncImageReader::skipped() const {
  const std::lock_guard lock(mutex_);
  return skipped_;
}

std::optional<Batch> AsyncImageReader::next() {
  std::unique_lock lock(mutex_);
  const std::uint64_t generation = generation_;
  while (active_ && next_to_deliver_ < batch_count_) {
    std::optional<Result>& slot = ready_slot(next_to_deliver_);
    batch_ready_.wait(lock, [&] { return generation_ != generation || slot.has_value(); });
    if (generation_ != generation) return std::nullopt;
    Result result = std::move(*slot);
    slot.reset();
    ++next_to_deliver_;
    work_ready_.notify_all();
    if (result.error) {
      abandon_epoch();
      std::rethrow_exception(result.error);
    }
    if (result.batch.labels.size(0) > 0) return result.batch;
  }
  active_ = false;
  return std::nullopt;
}

std::shared_ptr<Storage> AsyncImageReader::acquire_buffer(std::int64_t rows) {
  const std::size_t bytes = images_bytes(*dataset_, rows) +
                            static_cast<std::size_t>(rows * target_row_elements(*dataset_)) * sizeof(std::int32_t);
  // Free buffers too small for this batch size are dropped; the batch size only changes between epochs.
  std::erase_if(buffers_, [&](const std::shared_ptr<Storage>& buffer) {
    return buffer.use_count() == 1 && buffer->bytes() < bytes;
  });
  for (const std::shared_ptr<Storage>& buffer : buffers_) {
    if (buffer.use_count() == 1) return buffer;
  }
  buffers_.push_back(
      std::make_shared<Storage>(bytes, Device::cpu(), options_.pin_memory ? HostMemory::pinned : HostMemory::pageable));
  return buffers_.back();
}

std::optional<AsyncImageReader::Result>& AsyncImageReader::ready_slot(std::int64_t batch) {
  return ready_[static_cast<std::size_t>(batch % prefetch_)];
}

void AsyncImageReader::decode_loop() {
  ImageScratch scratch;  // this thread's decoding memory, reused from image to image
  std::unique_lock lock(mutex_);
  for (;;) {
    work_ready_.wait(lock, [&] {
      return shutting_down_ ||
             (active_ && next_to_claim_ < batch_count_ && next_to_claim_ < next_to_deliver_ + prefetch_);
    });
    if (shutting_down_) return;
    const std::int64_t batch = next_to_claim_++;
    const std::uint64_t generation = generation_;
    const std::shared_ptr<const EpochPlan> plan = plan_;
    Result result;
    std::shared_ptr<Storage> buffer;
    try {
      buffer = acquire_buffer(plan->batch_size);
    } catch (...) {
      result.error = std::current_exception();
    }
    lock.unlock();
    if (buffer) result = decode_batch(*plan, batch, generation, buffer, scratch);
    buffer.reset();
    lock.lock();
    if (generation_ == generation) {
      ready_slot(batch) = std::move(result);
      batch_ready_.notify_all();
    }
  }
}

std::vector<SkippedFile> AsyncImageReader::record_skipped(const std::vector<SkippedFile>& skipped) {
  std::vector<SkippedFile> first_time;
  if (skipped.empty()) return first_time;
  const std::lock_guard lock(mutex_);
  skipped_.insert(skipped_.end(), skipped.begin(), skipped.end());
  for (const SkippedFile& file : skipped) {
    if (reported_.insert(file.path).second) first_time.push_back(file);
  }
  return first_time;
}

AsyncImageReader::Result AsyncImageReader::decode_batch(const EpochPlan& plan, std::int64_t batch,
                                                        std::uint64_t generation,
                                                        const std::shared_ptr<Storage>& buffer,
                                                        ImageScratch& scratch) {
  const auto count = static_cast<std::int64_t>(plan.order.size());
  const std::int64_t first = batch * plan.batch_size, last = std::min(count, first + plan.batch_size);
  auto* images = static_cast<float*>(buffer->data());
  auto* labels =
      reinterpret_cast<std::int32_t*>(static_cast<char*>(buffer->data()) + images_bytes(*dataset_, plan.batch_size));
  Result result;
  std::vector<SkippedFile> skipped;
  std::int64_t rows = 0;
  try {
    // One image at a time, so that an abandoned epoch stops its decoders within an image.
    for (std::int64_t position = first; position < last && generation_ == generation; ++position) {
      rows += dataset_->load_into({plan.order.data() + position, 1}, plan.augment_epoch,
                                  images + rows * image_row_elements(*dataset_),
                                  labels + rows * target_row_elements(*dataset_), skipped, scratch,
                                  options_.skip_unreadable);
    }
    for (const SkippedFile& file : record_skipped(skipped)) options_.on_skipped(file);
  } catch (...) {
    result.error = std::current_exception();
  }
  if (!result.error) {
    Shape images_shape = dataset_->image_shape(), labels_shape = dataset_->target_shape();
    images_shape.insert(images_shape.begin(), rows);
    labels_shape.insert(labels_shape.begin(), rows);
    result.batch.images = view(buffer, 0, images_shape, DType::f32);
    result.batch.labels = view(buffer, images_bytes(*dataset_, plan.batch_size), labels_shape, DType::i32);
  }
  return result;
}

}  // namespace kiln::data
