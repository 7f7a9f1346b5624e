#include "kiln/data/data_source.h"

namespace kiln::data {

InMemorySource::InMemorySource(LabelledImages set) : set_(std::move(set)) {}

void InMemorySource::start_epoch(std::vector<std::int64_t> order, std::int64_t batch_size,
                                 std::optional<std::int64_t>) {
  sampler_.emplace(set_, batch_size);
  sampler_->set_order(std::move(order));
  next_batch_ = 0;
}

std::optional<Batch> InMemorySource::next() {
  KILN_CHECK(sampler_.has_value(), "InMemorySource: next() before start_epoch()");
  if (next_batch_ >= sampler_->batch_count()) return std::nullopt;
  return sampler_->batch(next_batch_++);
}

ImageFileSource::ImageFileSource(std::shared_ptr<const ItemLoader> dataset, ReaderOptions options)
    : reader_(std::move(dataset), std::move(options)) {}

void ImageFileSource::start_epoch(std::vector<std::int64_t> order, std::int64_t batch_size,
                                  std::optional<std::int64_t> augment_epoch) {
  reader_.start_epoch({std::move(order), batch_size, augment_epoch});
}

}  // namespace kiln::data
