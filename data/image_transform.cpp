#include "kiln/data/image_transform.h"

#include <algorithm>

#include "kiln/error.h"
#include "kiln/random.h"

namespace kiln::data {

namespace {

constexpr std::int64_t channels = 3;

// Each image owns a fixed block of Philox counters per epoch, one per kind of draw, so that switching one
// augmentation on or off does not change the others' draws. Indices below 2^32 and epochs below 2^30 are distinct.
enum Draw : std::uint64_t { square_offset_draw, flip_draw, crop_row_draw, crop_column_draw, draws_per_image };

struct AugmentationDraws {
  std::int64_t square_offset = -1;  // -1: centred
  bool flip = false;
  std::int64_t crop_row = 0, crop_column = 0;  // window position in the padded image
};

AugmentationDraws draw_augmentation(const ImageTransform& transform, const AugmentationKey& key,
                                    std::int64_t square_range) {
  KILN_CHECK(
      key.epoch >= 0 && key.epoch < (std::int64_t(1) << 30) && key.index >= 0 && key.index < (std::int64_t(1) << 32),
      "augmentation: epoch ", key.epoch, " or image index ", key.index, " out of range");
  const std::uint64_t base =
      ((static_cast<std::uint64_t>(key.epoch) << 32) + static_cast<std::uint64_t>(key.index)) * draws_per_image;
  const auto draw = [&](Draw which, std::uint64_t bound) {
    Generator generator;
    generator.set_state({transform.seed, base + which});
    return static_cast<std::int64_t>(generator.below(bound));
  };
  AugmentationDraws draws;
  if (transform.square_crop && transform.random_square_offset) {
    draws.square_offset = draw(square_offset_draw, static_cast<std::uint64_t>(square_range + 1));
  }
  draws.flip = transform.horizontal_flip && draw(flip_draw, 2) == 1;
  const auto positions = static_cast<std::uint64_t>(2 * transform.crop_padding + 1);
  draws.crop_row = draw(crop_row_draw, positions);
  draws.crop_column = draw(crop_column_draw, positions);
  return draws;
}

}  // namespace

Normalization normalization_preset(std::string_view name) {
  if (name == "[0,1]") return {{0.0, 0.0, 0.0}, {1.0, 1.0, 1.0}};
  if (name == "[-1,1]") return {{0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}};
  if (name == "imagenet") return {{0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}};
  fail("unknown normalisation preset '", name, "' (known: [0,1], [-1,1], imagenet)");
}

void transform_image(const Image& decoded, const ImageTransform& transform, std::optional<AugmentationKey> augmentation,
                     float* out) {
  ImageScratch scratch;
  transform_image(decoded, transform, augmentation, out, scratch);
}

void transform_image(const Image& decoded, const ImageTransform& transform, std::optional<AugmentationKey> augmentation,
                     float* out, ImageScratch& scratch) {
  const Normalization& normalization = transform.normalization;
  KILN_CHECK(normalization.mean.size() == channels && normalization.std.size() == channels,
             "image normalisation needs 3 means and 3 standard deviations, got ", normalization.mean.size(), " and ",
             normalization.std.size());
  KILN_CHECK(transform.crop_padding >= 0, "image crop padding must not be negative, got ", transform.crop_padding);
  KILN_CHECK(transform.resize_shorter == 0 ||
                 (!transform.square_crop && transform.resize_shorter >= std::max(transform.height, transform.width)),
             "image transform: resizing the shorter side to ", transform.resize_shorter, " and cropping the centre ",
             transform.height, "x", transform.width, " needs a side at least as large and no square crop");
  const std::int64_t square_range = square_crop_range(decoded);
  const AugmentationDraws draws = augmentation
                                      ? draw_augmentation(transform, *augmentation, square_range)
                                      : AugmentationDraws{-1, false, transform.crop_padding, transform.crop_padding};
  Image& resized = scratch.resized;
  if (transform.resize_shorter > 0) {
    resize_shorter_side(decoded, transform.resize_shorter, scratch.intermediate, scratch);
    centre_crop(scratch.intermediate, transform.height, transform.width, resized);
  } else if (transform.square_crop) {
    square_crop(decoded, draws.square_offset >= 0 ? draws.square_offset : square_range / 2, scratch.intermediate);
    resize_image(scratch.intermediate, transform.height, transform.width, resized, scratch);
  } else {
    resize_image(decoded, transform.height, transform.width, resized, scratch);
  }
  if (draws.flip) flip_horizontally(resized);
  // Output (row, column) reads resized (row + shift_rows, column + shift_columns), zero (the mean) outside it.
  const std::int64_t height = transform.height, width = transform.width;
  const std::int64_t shift_rows = draws.crop_row - transform.crop_padding;
  const std::int64_t shift_columns = draws.crop_column - transform.crop_padding;
  for (std::int64_t channel = 0; channel < channels; ++channel) {
    const auto mean = static_cast<float>(normalization.mean[channel]);
    const auto inverse_std = static_cast<float>(1.0 / normalization.std[channel]);
    for (std::int64_t row = 0; row < height; ++row) {
      float* destination = out + (channel * height + row) * width;
      const std::int64_t source_row = row + shift_rows;
      if (source_row < 0 || source_row >= height) {
        std::fill(destination, destination + width, 0.0f);
        continue;
      }
      const float* source = resized.pixels.data() + (channel * height + source_row) * width;
      for (std::int64_t column = 0; column < width; ++column) {
        const std::int64_t source_column = column + shift_columns;
        destination[column] =
            source_column < 0 || source_column >= width ? 0.0f : (source[source_column] - mean) * inverse_std;
      }
    }
  }
}

}  // namespace kiln::data
