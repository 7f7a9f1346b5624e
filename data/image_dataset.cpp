#include "kiln/data/image_dataset.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "kernels/parallel.h"
#include "kiln/error.h"

namespace kiln::data {

namespace {

// decode_image's messages begin with the path, which a SkippedFile holds apart.
std::string reason_without_path(const std::string& message, const std::string& path) {
  const std::string prefix = path + ": ";
  return message.starts_with(prefix) ? message.substr(prefix.size()) : message;
}

}  // namespace

ImageDataset::ImageDataset(ImageSet set, ImageTransform transform)
    : set_(std::move(set)), transform_(std::move(transform)) {
  KILN_CHECK(transform_.height > 0 && transform_.width > 0, "image size must be positive, got ", transform_.height, "x",
             transform_.width);
  for (const ImageItem& item : set_.items) {
    KILN_CHECK(item.label >= 0 && static_cast<std::size_t>(item.label) < set_.classes.size(), item.path, ": label ",
               item.label, " outside the set's ", set_.classes.size(), " classes");
  }
}

std::int64_t ImageDataset::load_into(std::span<const std::int64_t> indices, std::optional<std::int64_t> augment_epoch,
                                     float* images, std::int32_t* labels, std::vector<SkippedFile>& skipped,
                                     bool skip_unreadable) const {
  ImageScratch scratch;
  return load_into(indices, augment_epoch, images, labels, skipped, scratch, skip_unreadable);
}

std::int64_t ImageDataset::load_into(std::span<const std::int64_t> indices, std::optional<std::int64_t> augment_epoch,
                                     float* images, std::int32_t* labels, std::vector<SkippedFile>& skipped,
                                     ImageScratch& scratch, bool skip_unreadable) const {
  std::int64_t rows = 0;
  for (const std::int64_t index : indices) {
    KILN_CHECK(index >= 0 && index < size(), "image index ", index, " outside a set of ", size());
    const ImageItem& item = set_.items[static_cast<std::size_t>(index)];
    const Image* decoded = nullptr;
    try {
      decoded = &decode_image(item.path, scratch);
    } catch (const Error& error) {
      if (!skip_unreadable) throw;
      skipped.push_back({item.path, reason_without_path(error.what(), item.path)});
      continue;
    }
    try {
      const std::optional<AugmentationKey> key =
          augment_epoch ? std::optional<AugmentationKey>({*augment_epoch, index}) : std::nullopt;
      transform_image(*decoded, transform_, key, images + rows * image_elements(), scratch);
    } catch (const std::exception& error) {
      fail(item.path, ": ", error.what());
    }
    labels[rows++] = item.label;
  }
  scratch.release_above(retained_scratch_bytes);
  return rows;
}

Batch ImageDataset::load_batch(std::span<const std::int64_t> indices, std::optional<std::int64_t> augment_epoch,
                                      std::vector<SkippedFile>& skipped, bool skip_unreadable) const {
  const auto capacity = static_cast<std::int64_t>(indices.size());
  std::vector<float> images(static_cast<std::size_t>(capacity * image_elements()));
  std::vector<std::int32_t> labels(static_cast<std::size_t>(capacity));
  const std::int64_t rows = load_into(indices, augment_epoch, images.data(), labels.data(), skipped, skip_unreadable);
  images.resize(static_cast<std::size_t>(rows * image_elements()));
  labels.resize(static_cast<std::size_t>(rows));
  return {Tensor::from_vector(images, {rows, 3, transform_.height, transform_.width}),
          Tensor::from_vector(labels, {rows})};
}

Normalization estimate_normalization(const ImageDataset& dataset, std::int64_t sample_count,
                                            std::vector<SkippedFile>& skipped) {
  const std::int64_t count = sample_count <= 0 ? dataset.size() : std::min<std::int64_t>(sample_count, dataset.size());
  KILN_CHECK(count > 0, "estimate_normalization: the image set is empty");
  ImageTransform plain = dataset.transform();
  plain.normalization = normalization_preset("[0,1]");
  const ImageDataset unnormalized(dataset.set(), plain);
  const std::int64_t plane = plain.height * plain.width;
  // Per-image channel sums, reduced in image order afterwards so that the thread count cannot change the result.
  struct Sums {
    bool decoded = false;
    double sum[3] = {}, sum_of_squares[3] = {};
  };
  std::vector<Sums> sums(static_cast<std::size_t>(count));
  std::mutex skipped_mutex;
  kernels::parallel_for(0, count, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> pixels(static_cast<std::size_t>(3 * plane));
    std::int32_t label = 0;
    ImageScratch scratch;
    for (std::int64_t i = begin; i < end; ++i) {
      const std::int64_t index = i * dataset.size() / count;
      std::vector<SkippedFile> unreadable;
      if (unnormalized.load_into({&index, 1}, std::nullopt, pixels.data(), &label, unreadable, scratch) == 0) {
        const std::lock_guard lock(skipped_mutex);
        skipped.insert(skipped.end(), unreadable.begin(), unreadable.end());
        continue;
      }
      Sums& image = sums[static_cast<std::size_t>(i)];
      image.decoded = true;
      for (std::int64_t channel = 0; channel < 3; ++channel) {
        for (std::int64_t p = 0; p < plane; ++p) {
          const double value = pixels[static_cast<std::size_t>(channel * plane + p)];
          image.sum[channel] += value;
          image.sum_of_squares[channel] += value * value;
        }
      }
    }
  });
  double total[3] = {}, total_of_squares[3] = {};
  std::int64_t decoded = 0;
  for (const Sums& image : sums) {
    if (!image.decoded) continue;
    ++decoded;
    for (int channel = 0; channel < 3; ++channel) {
      total[channel] += image.sum[channel];
      total_of_squares[channel] += image.sum_of_squares[channel];
    }
  }
  KILN_CHECK(decoded > 0, "estimate_normalization: none of the ", count, " sampled images could be decoded");
  Normalization statistics;
  const auto elements = static_cast<double>(decoded * plane);
  for (int channel = 0; channel < 3; ++channel) {
    const double mean = total[channel] / elements;
    const double deviation = std::sqrt(std::max(0.0, total_of_squares[channel] / elements - mean * mean));
    statistics.mean.push_back(mean);
    statistics.std.push_back(deviation > 1e-12 ? deviation : 1.0);
  }
  return statistics;
}

}  // namespace kiln::data
