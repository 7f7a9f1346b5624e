#pragma once
// Where the trainer and evaluation draw batches from: an epoch is an order over the source's items, a batch size and
// (for training) the epoch whose augmentation draws apply, so that the trainer owns the seeded shuffle whatever the
// source and a resumed run draws the same batches. Two sources: labelled images in memory (Fashion-MNIST) and files
// (images with a class each, or images with masks) decoded on the asynchronous reader's threads.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kiln/data/async_reader.h"
#include "kiln/data/idx.h"
#include "kiln/data/image_folder.h"
#include "kiln/data/dataset.h"

namespace kiln::data {

class DataSource {
 public:
  virtual ~DataSource() = default;
  virtual std::int64_t size() const = 0;
  virtual const std::vector<std::string>& classes() const = 0;
  // Starts an epoch over `order` (a permutation of 0..size()-1) in batches of `batch_size`; what is left of the
  // previous one is dropped.
  virtual void start_epoch(std::vector<std::int64_t> order, std::int64_t batch_size,
                           std::optional<std::int64_t> augment_epoch) = 0;
  // The next batch, none at the epoch's end (or after stop()). A batch stays valid until the next call.
  virtual std::optional<Batch> next() = 0;
  // Abandons the epoch (Ctrl-C) without waiting for work in flight.
  virtual void stop() {}
  // Every file left out of a batch so far (unreadable or corrupt), in the order met, repeats included.
  virtual std::vector<SkippedFile> skipped() const { return {}; }
};

// Normalised images in memory; augmentation is not supported and ignored.
class InMemorySource : public DataSource {
 public:
  explicit InMemorySource(LabelledImages set);
  std::int64_t size() const override { return set_.images.size(0); }
  const std::vector<std::string>& classes() const override { return set_.classes; }
  void start_epoch(std::vector<std::int64_t> order, std::int64_t batch_size,
                   std::optional<std::int64_t> augment_epoch) override;
  std::optional<Batch> next() override;
  const LabelledImages& set() const { return set_; }

 private:
  LabelledImages set_;
  std::optional<BatchSampler> sampler_;
  std::int64_t next_batch_ = 0;
};

// Files (images, or images with masks) through an AsyncImageReader: decoder threads, prefetch, pinned batches when
// asked.
class ImageFileSource : public DataSource {
 public:
  ImageFileSource(std::shared_ptr<const ItemLoader> dataset, ReaderOptions options);
  std::int64_t size() const override { return reader_.dataset().size(); }
  const std::vector<std::string>& classes() const override { return reader_.dataset().classes(); }
  const ItemLoader& loader() const { return reader_.dataset(); }
  void start_epoch(std::vector<std::int64_t> order, std::int64_t batch_size,
                   std::optional<std::int64_t> augment_epoch) override;
  std::optional<Batch> next() override { return reader_.next(); }
  void stop() override { reader_.stop(); }
  std::vector<SkippedFile> skipped() const override { return reader_.skipped(); }

 private:
  AsyncImageReader reader_;
};

}  // namespace kiln::data
