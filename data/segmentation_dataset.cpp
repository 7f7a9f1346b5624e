#include "kiln/data/segmentation_dataset.h"

#include <algorithm>
#include <cmath>

#include "kiln/error.h"
#include "kiln/random.h"

namespace kiln::data {

namespace {

constexpr std::int64_t channels = 3;

// Each item owns a fixed block of Philox counters per epoch, one per kind of draw (as image_transform.cpp's), so
// that switching one augmentation on or off does not change the others' draws.
enum Draw : std::uint64_t { scale_draw, row_draw, column_draw, flip_draw, draws_per_item };

struct PairDraws {
  double scale = 1;
  std::uint64_t row = 0, column = 0;  // uniform 64-bit values, reduced to window positions once the size is known
  bool flip = false;
};

PairDraws draw_pair(const SegmentationTransform& transform, const AugmentationKey& key) {
  KILN_CHECK(
      key.epoch >= 0 && key.epoch < (std::int64_t(1) << 30) && key.index >= 0 && key.index < (std::int64_t(1) << 32),
      "augmentation: epoch ", key.epoch, " or item index ", key.index, " out of range");
  const std::uint64_t base =
      ((static_cast<std::uint64_t>(key.epoch) << 32) + static_cast<std::uint64_t>(key.index)) * draws_per_item;
  const auto generator_for = [&](Draw which) {
    Generator generator;
    generator.set_state({transform.seed, base + which});
    return generator;
  };
  PairDraws draws;
  draws.scale = transform.min_scale + (transform.max_scale - transform.min_scale) * generator_for(scale_draw).uniform();
  draws.row = generator_for(row_draw).below(std::uint64_t(1) << 62);
  draws.column = generator_for(column_draw).below(std::uint64_t(1) << 62);
  draws.flip = transform.horizontal_flip && generator_for(flip_draw).below(2) == 1;
  return draws;
}

// Where a `size` window starts in a `scaled` axis: a shift into the larger of the two, drawn from `draw`.
// Output index i reads scaled index i + shift (outside [0, scaled): padding).
std::int64_t window_shift(std::int64_t scaled, std::int64_t size, std::uint64_t draw) {
  const std::int64_t range = std::abs(scaled - size);
  const auto offset = static_cast<std::int64_t>(draw % static_cast<std::uint64_t>(range + 1));
  return scaled >= size ? offset : -offset;
}

}  // namespace

SegmentationDataset::SegmentationDataset(SegmentationSet set, SegmentationTransform transform)
    : set_(std::move(set)), transform_(std::move(transform)) {
  KILN_CHECK(!set_.classes.empty(), "segmentation set: no class list (classes.json: [{\"name\": ..., \"color\": [r, ",
             "g, b]}, ...]); it names the classes and fixes their number");
  KILN_CHECK(transform_.height > 0 && transform_.width > 0, "segmentation set: row size must be positive, got ",
             transform_.height, "x", transform_.width);
  KILN_CHECK(transform_.min_scale > 0 && transform_.min_scale <= transform_.max_scale && transform_.max_scale <= 16,
             "segmentation set: scale range [", transform_.min_scale, ", ", transform_.max_scale,
             "] must satisfy 0 < min <= max <= 16");
  KILN_CHECK(transform_.normalization.mean.size() == channels && transform_.normalization.std.size() == channels,
             "segmentation set: normalisation needs 3 means and 3 standard deviations");
  for (const SegmentationClass& entry : set_.classes) class_names_.push_back(entry.name);
}

void transform_pair(const Image& image, const Mask& mask, const SegmentationTransform& transform,
                    std::optional<AugmentationKey> augmentation, float* out_image, std::int32_t* out_mask,
                    ImageScratch& scratch) {
  const PairDraws draws = augmentation ? draw_pair(transform, *augmentation) : PairDraws{};
  const std::int64_t height = transform.height, width = transform.width;
  const auto scaled_height = std::max<std::int64_t>(1, std::llround(static_cast<double>(height) * draws.scale));
  const auto scaled_width = std::max<std::int64_t>(1, std::llround(static_cast<double>(width) * draws.scale));
  Image& resized = scratch.resized;
  resize_image(image, scaled_height, scaled_width, resized, scratch);
  const Mask resized_mask = resize_mask_nearest(mask, scaled_height, scaled_width);
  const std::int64_t shift_rows = window_shift(scaled_height, height, draws.row);
  const std::int64_t shift_columns = window_shift(scaled_width, width, draws.column);
  const auto source_column = [&](std::int64_t column) {
    const std::int64_t shifted = column + shift_columns;
    return draws.flip ? scaled_width - 1 - shifted : shifted;  // mirroring the window mirrors the pair
  };
  for (std::int64_t row = 0; row < height; ++row) {
    const std::int64_t source_row = row + shift_rows;
    const bool row_inside = source_row >= 0 && source_row < scaled_height;
    for (std::int64_t column = 0; column < width; ++column) {
      const std::int64_t source = source_column(column);
      const bool inside = row_inside && source >= 0 && source < scaled_width;
      out_mask[row * width + column] =
          inside ? resized_mask.labels[static_cast<std::size_t>(source_row * scaled_width + source)]
                 : transform.ignore_label;
    }
  }
  for (std::int64_t channel = 0; channel < channels; ++channel) {
    const auto mean = static_cast<float>(transform.normalization.mean[static_cast<std::size_t>(channel)]);
    const auto inverse_std = static_cast<float>(1.0 / transform.normalization.std[static_cast<std::size_t>(channel)]);
    const float* plane = resized.pixels.data() + channel * scaled_height * scaled_width;
    for (std::int64_t row = 0; row < height; ++row) {
      const std::int64_t source_row = row + shift_rows;
      const bool row_inside = source_row >= 0 && source_row < scaled_height;
      float* destination = out_image + (channel * height + row) * width;
      for (std::int64_t column = 0; column < width; ++column) {
        const std::int64_t source = source_column(column);
        destination[column] = row_inside && source >= 0 && source < scaled_width
                                  ? (plane[source_row * scaled_width + source] - mean) * inverse_std
                                  : 0.0f;
      }
    }
  }
}

std::int64_t SegmentationDataset::load_into(std::span<const std::int64_t> indices,
                                            std::optional<std::int64_t> augment_epoch, float* images,
                                            std::int32_t* targets, std::vector<SkippedFile>& skipped,
                                            ImageScratch& scratch, bool skip_unreadable) const {
  const std::int64_t image_elements = shape_numel(image_shape()), mask_elements = shape_numel(target_shape());
  std::int64_t rows = 0;
  for (const std::int64_t index : indices) {
    KILN_CHECK(index >= 0 && index < size(), "segmentation item index ", index, " outside a set of ", size());
    const SegmentationItem& item = set_.items[static_cast<std::size_t>(index)];
    SegmentationSample sample;
    try {
      sample = read_segmentation_item(item, set_.classes, transform_.ignore_label);
    } catch (const Error& error) {
      if (!skip_unreadable) throw;
      // The reason names the mask when it is at fault; the image's own path is the entry's.
      const std::string reason = error.what(), prefix = item.image + ": ";
      skipped.push_back({item.image, reason.starts_with(prefix) ? reason.substr(prefix.size()) : reason});
      continue;
    }
    try {
      const std::optional<AugmentationKey> key =
          augment_epoch ? std::optional<AugmentationKey>({*augment_epoch, index}) : std::nullopt;
      transform_pair(sample.image, sample.mask, transform_, key, images + rows * image_elements,
                     targets + rows * mask_elements, scratch);
    } catch (const std::exception& error) {
      fail(item.image, ": ", error.what());
    }
    ++rows;
  }
  scratch.release_above(retained_scratch_bytes);
  return rows;
}

}  // namespace kiln::data
