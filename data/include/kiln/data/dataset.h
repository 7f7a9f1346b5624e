#pragma once
// Preparing an in-memory labelled image set for training: subsets, a seeded validation split, per-channel input
// normalisation, and mini-batches copied into reused buffers.
#include <cstdint>
#include <vector>

#include "kiln/data/idx.h"

namespace kiln::data {

// Per-channel statistics of the training images; inputs are fed to the model as (x - mean) / std.
struct Normalization {
  std::vector<double> mean, std;
};

// Mean and (population) standard deviation of each channel of images [N, C, H, W]; a constant channel gets std 1 so
// that normalising it cannot divide by zero.
Normalization channel_statistics(const Tensor& images);
// In place on float32 images [N, C, H, W]; the statistics must have C entries.
void normalize(Tensor& images, const Normalization& statistics);

// The images at `indices`, in that order (copies).
LabelledImages gather(const LabelledImages& set, const std::vector<std::int64_t>& indices);
// A copy of the first `count` images, or the set itself (sharing its tensors) when count is 0 or covers it.
LabelledImages take_first(const LabelledImages& set, std::int64_t count);

// A uniformly random permutation of 0..count-1 (Fisher-Yates), consuming count - 1 draws of `generator`.
std::vector<std::int64_t> permutation(std::int64_t count, Generator& generator);

struct TrainValidationSplit {
  LabelledImages train, validation;
};
// round(fraction * N) images chosen by `generator` form the validation part; both parts keep the set's order.
// Throws when either part would be empty.
TrainValidationSplit split_validation(const LabelledImages& set, double fraction, Generator& generator);

struct Batch {
  Tensor images, labels;
};

// Cuts a set into mini-batches in a given order; the last batch holds the remainder. Batches are copied into
// buffers owned by the sampler, so a batch stays valid only until the next call to batch().
class BatchSampler {
 public:
  BatchSampler(const LabelledImages& set, std::int64_t batch_size);
  std::int64_t size() const { return count_; }
  std::int64_t batch_count() const { return (count_ + batch_size_ - 1) / batch_size_; }
  // `order` must be a permutation of the set's indices; the sampler starts in the set's own order.
  void set_order(std::vector<std::int64_t> order);
  Batch batch(std::int64_t index);

 private:
  Batch& buffer_for(std::int64_t rows);
  Tensor images_, labels_;
  std::int64_t count_, batch_size_, image_elements_;
  std::vector<std::int64_t> order_;
  Batch full_, remainder_;
};

}  // namespace kiln::data
