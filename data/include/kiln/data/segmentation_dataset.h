#pragma once
// A segmentation set with the transform its image/mask pairs go through into batches: images float [3, H, W]
// normalised, masks int32 [H, W] of class labels. Image and mask are always transformed together (the same scale,
// window and flip); images are resampled by resize_image, masks by nearest neighbour only.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "kiln/data/dataset.h"
#include "kiln/data/image_transform.h"
#include "kiln/data/item_loader.h"
#include "kiln/data/segmentation_set.h"

namespace kiln::data {

struct SegmentationTransform {
  // Every row's size. Unaugmented, an image and its mask are resized to it.
  std::int64_t height = 0, width = 0;
  Normalization normalization = normalization_preset("[0,1]");
  std::int32_t ignore_label = default_ignore_label;

  // Training augmentation, applied only to batches that ask for it; every draw depends only on (seed, epoch, the
  // item's index), as ImageTransform's. The pair is resized to the row size times a factor drawn uniformly from
  // [min_scale, max_scale], then a row-sized window is taken at a uniformly random position: a larger pair is cropped,
  // a smaller one is placed on a canvas whose image pixels are 0 after normalisation (the mean) and whose mask
  // pixels are ignored. Then, with horizontal_flip, both are mirrored with probability 1/2.
  double min_scale = 1, max_scale = 1;
  bool horizontal_flip = false;
  std::uint64_t seed = 0;
};

class SegmentationDataset : public ItemLoader {
 public:
  // The set must have its class list (classes.json): it names the classes and fixes their number. Throws naming the
  // problem when the transform is unusable (sizes, scales, normalisation).
  SegmentationDataset(SegmentationSet set, SegmentationTransform transform);

  const SegmentationSet& set() const { return set_; }
  const SegmentationTransform& transform() const { return transform_; }
  std::int64_t size() const override { return static_cast<std::int64_t>(set_.items.size()); }
  const std::vector<std::string>& classes() const override { return class_names_; }
  Shape image_shape() const override { return {3, transform_.height, transform_.width}; }
  Shape target_shape() const override { return {transform_.height, transform_.width}; }

  std::int64_t load_into(std::span<const std::int64_t> indices, std::optional<std::int64_t> augment_epoch,
                         float* images, std::int32_t* targets, std::vector<SkippedFile>& skipped,
                         ImageScratch& scratch, bool skip_unreadable = true) const override;

 private:
  SegmentationSet set_;
  SegmentationTransform transform_;
  std::vector<std::string> class_names_;
};

// Writes one pair as a row: `image` (float [3, h, w] in [0, 1]) and `mask` (same size) transformed to the row size
// into `out_image` ([3, height, width], normalised) and `out_mask` ([height, width]). `augmentation` selects the
// draws; none: a plain resize. Exposed for tests and for tools that transform pairs one at a time.
void transform_pair(const Image& image, const Mask& mask, const SegmentationTransform& transform,
                    std::optional<AugmentationKey> augmentation, float* out_image, std::int32_t* out_mask,
                    ImageScratch& scratch);

}  // namespace kiln::data
