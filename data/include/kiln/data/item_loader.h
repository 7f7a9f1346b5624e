#pragma once
// What the asynchronous reader decodes: a set of items, each becoming one row of a batch's images (float [C, H, W],
// normalised) and one row of its targets (int32: a class label, or a label per pixel). Image classification
// (ImageDataset) and segmentation (SegmentationDataset) are the two kinds.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kiln/data/image.h"
#include "kiln/data/image_folder.h"
#include "kiln/shape.h"

namespace kiln::data {

class ItemLoader {
 public:
  virtual ~ItemLoader() = default;
  virtual std::int64_t size() const = 0;
  virtual const std::vector<std::string>& classes() const = 0;
  virtual Shape image_shape() const = 0;   // of one row: [C, H, W]
  virtual Shape target_shape() const = 0;  // of one row: {} for a class label, [H, W] for per-pixel labels

  // Decodes the items at `indices`, in that order, into consecutive rows of `images` and `targets`, augmented with
  // the draws of `augment_epoch` when given, with the caller's scratch memory (one per thread). An item whose file
  // cannot be decoded is left out and appended to `skipped` when `skip_unreadable`, else the decoder's kiln::Error
  // (naming the file) is thrown; any other failure is thrown as kiln::Error naming the file. Returns the rows
  // written. Thread-safe.
  virtual std::int64_t load_into(std::span<const std::int64_t> indices, std::optional<std::int64_t> augment_epoch,
                                 float* images, std::int32_t* targets, std::vector<SkippedFile>& skipped,
                                 ImageScratch& scratch, bool skip_unreadable = true) const = 0;
};

// Elements of one row of images or targets.
inline std::int64_t image_row_elements(const ItemLoader& loader) { return shape_numel(loader.image_shape()); }
inline std::int64_t target_row_elements(const ItemLoader& loader) { return shape_numel(loader.target_shape()); }

}  // namespace kiln::data
