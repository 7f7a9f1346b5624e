#pragma once
// An image set with the transform its images go through: decodes items into batches (the synchronous path; the
// asynchronous reader runs the same code on its threads) and estimates the normalisation from the training images.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "kiln/data/dataset.h"
#include "kiln/data/image_folder.h"
#include "kiln/data/image_transform.h"
#include "kiln/data/item_loader.h"

namespace kiln::data {

class ImageDataset : public ItemLoader {
 public:
  ImageDataset(ImageSet set, ImageTransform transform);

  const ImageSet& set() const { return set_; }
  const ImageTransform& transform() const { return transform_; }
  std::int64_t size() const override { return static_cast<std::int64_t>(set_.items.size()); }
  const std::vector<std::string>& classes() const override { return set_.classes; }
  Shape image_shape() const override { return {3, transform_.height, transform_.width}; }
  Shape target_shape() const override { return {}; }
  // Floats per decoded image: 3 * height * width.
  std::int64_t image_elements() const { return 3 * transform_.height * transform_.width; }

  // Decodes the items at `indices`, in that order, into consecutive rows of `images` (image_elements() floats each)
  // and `labels`, augmented with the draws of `augment_epoch` when given. An item whose file cannot be decoded is
  // left out and appended to `skipped` when `skip_unreadable`, else the decoder's kiln::Error (naming the file) is
  // thrown; any other failure is thrown as kiln::Error naming the file. Returns the rows written. Thread-safe.
  std::int64_t load_into(std::span<const std::int64_t> indices, std::optional<std::int64_t> augment_epoch,
                         float* images, std::int32_t* labels, std::vector<SkippedFile>& skipped,
                         bool skip_unreadable = true) const;
  // The same with the caller's scratch memory (one per thread), reused from call to call.
  std::int64_t load_into(std::span<const std::int64_t> indices, std::optional<std::int64_t> augment_epoch,
                         float* images, std::int32_t* labels, std::vector<SkippedFile>& skipped,
                         ImageScratch& scratch, bool skip_unreadable = true) const override;
  // The same into new tensors: images float32 [rows, 3, height, width], labels int32 [rows].
  Batch load_batch(std::span<const std::int64_t> indices, std::optional<std::int64_t> augment_epoch,
                          std::vector<SkippedFile>& skipped, bool skip_unreadable = true) const;

 private:
  ImageSet set_;
  ImageTransform transform_;
};

// Per-channel mean and standard deviation of the transformed (cropped, resized, not augmented, not normalised)
// images of up to `sample_count` items spread evenly over the set (all when 0), decoded on kiln's CPU threads. The
// result does not depend on the thread count. Unreadable files are skipped and appended to `skipped`.
Normalization estimate_normalization(const ImageDataset& dataset, std::int64_t sample_count,
                                            std::vector<SkippedFile>& skipped);

}  // namespace kiln::data
