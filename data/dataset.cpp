#include "kiln/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace kiln::data {

namespace {

void check_image_set(const LabelledImages& set, const char* what) {
  KILN_CHECK(set.images.defined() && set.images.dim() == 4 && set.images.dtype() == DType::f32 &&
                 set.images.device().is_cpu(),
             what, ": images must be float32 [N, C, H, W] on the cpu, got ",
             set.images.defined() ? describe(set.images) : std::string("an undefined tensor"));
  KILN_CHECK(set.labels.defined() && set.labels.dtype() == DType::i32 &&
                 set.labels.shape() == Shape{set.images.size(0)},
             what, ": labels must be int32 [", set.images.size(0), "], got ",
             set.labels.defined() ? describe(set.labels) : std::string("an undefined tensor"));
}

}  // namespace

Normalization channel_statistics(const Tensor& images) {
  KILN_CHECK(images.dim() == 4 && images.dtype() == DType::f32 && images.device().is_cpu(),
             "channel_statistics: expected float32 images [N, C, H, W] on the cpu, got ", describe(images));
  const std::int64_t count = images.size(0), channels = images.size(1), plane = images.size(2) * images.size(3);
  KILN_CHECK(count > 0 && plane > 0, "channel_statistics: no pixels in ", describe(images));
  const float* pixels = images.data<float>();
  Normalization statistics;
  for (std::int64_t channel = 0; channel < channels; ++channel) {
    double sum = 0, sum_of_squares = 0;
    for (std::int64_t image = 0; image < count; ++image) {
      const float* values = pixels + (image * channels + channel) * plane;
      for (std::int64_t i = 0; i < plane; ++i) {
        sum += values[i];
        sum_of_squares += static_cast<double>(values[i]) * values[i];
      }
    }
    const double elements = static_cast<double>(count * plane);
    const double mean = sum / elements;
    const double deviation = std::sqrt(std::max(0.0, sum_of_squares / elements - mean * mean));
    statistics.mean.push_back(mean);
    statistics.std.push_back(deviation > 1e-12 ? deviation : 1.0);
  }
  return statistics;
}

void normalize(Tensor& images, const Normalization& statistics) {
  KILN_CHECK(images.dim() == 4 && images.dtype() == DType::f32 && images.device().is_cpu(),
             "normalize: expected float32 images [N, C, H, W] on the cpu, got ", describe(images));
  const std::int64_t count = images.size(0), channels = images.size(1), plane = images.size(2) * images.size(3);
  KILN_CHECK(static_cast<std::int64_t>(statistics.mean.size()) == channels &&
                 static_cast<std::int64_t>(statistics.std.size()) == channels,
             "normalize: images have ", channels, " channels but the statistics have ", statistics.mean.size(),
             " means and ", statistics.std.size(), " standard deviations");
  float* pixels = images.data<float>();
  for (std::int64_t channel = 0; channel < channels; ++channel) {
    const float mean = static_cast<float>(statistics.mean[channel]);
    const float inverse_std = static_cast<float>(1.0 / statistics.std[channel]);
    for (std::int64_t image = 0; image < count; ++image) {
      float* values = pixels + (image * channels + channel) * plane;
      for (std::int64_t i = 0; i < plane; ++i) values[i] = (values[i] - mean) * inverse_std;
    }
  }
}

LabelledImages gather(const LabelledImages& set, const std::vector<std::int64_t>& indices) {
  check_image_set(set, "gather");
  Shape shape = set.images.shape();
  const std::int64_t count = shape[0];
  const std::int64_t image_elements = set.images.numel() / std::max<std::int64_t>(count, 1);
  shape[0] = static_cast<std::int64_t>(indices.size());
  LabelledImages subset;
  subset.images = Tensor::empty(shape);
  subset.labels = Tensor::empty({shape[0]}, DType::i32);
  subset.classes = set.classes;
  const float* source = set.images.data<float>();
  const std::int32_t* source_labels = set.labels.data<std::int32_t>();
  float* destination = subset.images.data<float>();
  std::int32_t* destination_labels = subset.labels.data<std::int32_t>();
  for (std::size_t row = 0; row < indices.size(); ++row) {
    const std::int64_t index = indices[row];
    KILN_CHECK(index >= 0 && index < count, "gather: index ", index, " is outside a set of ", count, " images");
    std::memcpy(destination + static_cast<std::int64_t>(row) * image_elements, source + index * image_elements,
                static_cast<std::size_t>(image_elements) * sizeof(float));
    destination_labels[row] = source_labels[index];
  }
  return subset;
}

LabelledImages take_first(const LabelledImages& set, std::int64_t count) {
  check_image_set(set, "take_first");
  const std::int64_t available = set.images.size(0);
  if (count <= 0 || count >= available) return set;
  std::vector<std::int64_t> indices(static_cast<std::size_t>(count));
  std::iota(indices.begin(), indices.end(), 0);
  return gather(set, indices);
}

std::vector<std::int64_t> permutation(std::int64_t count, Generator& generator) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(std::max<std::int64_t>(count, 0)));
  std::iota(order.begin(), order.end(), 0);
  for (std::int64_t i = count - 1; i > 0; --i) {
    const auto j = static_cast<std::int64_t>(generator.below(static_cast<std::uint64_t>(i + 1)));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  return order;
}

TrainValidationSplit split_validation(const LabelledImages& set, double fraction, Generator& generator) {
  check_image_set(set, "split_validation");
  const std::int64_t count = set.images.size(0);
  const auto validation_count = static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(count)));
  KILN_CHECK(validation_count > 0 && validation_count < count, "validation fraction ", fraction, " of ", count,
             " images leaves ", validation_count, " for validation and ", count - validation_count,
             " for training; both need at least one");
  std::vector<std::int64_t> order = permutation(count, generator);
  std::vector<std::int64_t> validation(order.begin(), order.begin() + validation_count);
  std::vector<std::int64_t> train(order.begin() + validation_count, order.end());
  std::sort(validation.begin(), validation.end());
  std::sort(train.begin(), train.end());
  return {gather(set, train), gather(set, validation)};
}

BatchSampler::BatchSampler(const LabelledImages& set, std::int64_t batch_size)
    : images_(set.images), labels_(set.labels), count_(0), batch_size_(batch_size), image_elements_(0) {
  check_image_set(set, "BatchSampler");
  KILN_CHECK(batch_size > 0, "BatchSampler: batch size must be positive, got ", batch_size);
  count_ = images_.size(0);
  image_elements_ = count_ > 0 ? images_.numel() / count_ : 0;
  order_.resize(static_cast<std::size_t>(count_));
  std::iota(order_.begin(), order_.end(), 0);
}

void BatchSampler::set_order(std::vector<std::int64_t> order) {
  KILN_CHECK(static_cast<std::int64_t>(order.size()) == count_, "BatchSampler: an order of ", order.size(),
             " indices for a set of ", count_, " images");
  order_ = std::move(order);
}

Batch& BatchSampler::buffer_for(std::int64_t rows) {
  Batch& buffer = rows == batch_size_ ? full_ : remainder_;
  if (!buffer.images.defined() || buffer.images.size(0) != rows) {
    Shape shape = images_.shape();
    shape[0] = rows;
    buffer.images = Tensor::empty(shape);
    buffer.labels = Tensor::empty({rows}, DType::i32);
  }
  return buffer;
}

Batch BatchSampler::batch(std::int64_t index) {
  KILN_CHECK(index >= 0 && index < batch_count(), "BatchSampler: batch ", index, " of ", batch_count());
  const std::int64_t first = index * batch_size_;
  const std::int64_t rows = std::min(batch_size_, count_ - first);
  Batch& buffer = buffer_for(rows);
  const float* source = images_.data<float>();
  const std::int32_t* source_labels = labels_.data<std::int32_t>();
  float* destination = buffer.images.data<float>();
  std::int32_t* destination_labels = buffer.labels.data<std::int32_t>();
  for (std::int64_t row = 0; row < rows; ++row) {
    const std::int64_t item = order_[static_cast<std::size_t>(first + row)];
    std::memcpy(destination + row * image_elements_, source + item * image_elements_,
                static_cast<std::size_t>(image_elements_) * sizeof(float));
    destination_labels[row] = source_labels[item];
  }
  return buffer;
}

}  // namespace kiln::data
