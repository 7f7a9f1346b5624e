#pragma once
// What the image pipeline does to each decoded image before it enters a batch: an optional square crop, the resize
// to the model's input size, training augmentation, and per-channel normalisation.
#include <cstdint>
#include <optional>
#include <string_view>

#include "kiln/data/image.h"
#include "kiln/data/dataset.h"

namespace kiln::data {

// Per-channel (x - mean) / std of [0, 1] pixels, by name: "[0,1]" leaves pixels as they are, "[-1,1]" maps them to
// x * 2 - 1 (mean 0.5, std 0.5: RoomNet, the VGG seed), "imagenet" uses mean (0.485, 0.456, 0.406) and std (0.229,
// 0.224, 0.225) (torchvision's pretrained models). Throws naming the known presets otherwise.
Normalization normalization_preset(std::string_view name);

struct ImageTransform {
  std::int64_t height = 224, width = 224;
  // Crop the centre square of the longer side before resizing (RoomNet), so that the aspect ratio is kept.
  bool square_crop = false;
  // Instead of resizing straight to height x width: resize the shorter side to this (keeping the aspect ratio), then
  // crop the centre height x width, as torchvision's ImageNet evaluation does (Resize(256), CenterCrop(224)). 0: off.
  std::int64_t resize_shorter = 0;
  Normalization normalization = normalization_preset("[0,1]");

  // Training augmentation, applied only to batches that ask for it. Every draw depends only on (seed, epoch, the
  // image's index in its set), never on the thread that decodes it or on the batch it lands in.
  // With square_crop: the square's offset along the long side is uniform in 0..|width - height| instead of centred.
  bool random_square_offset = false;
  // Pad-and-crop: the resized image is padded by this many pixels on every side with zeros after normalisation
  // (the channel mean), and a window of the output size is taken at a uniformly random position.
  std::int64_t crop_padding = 0;
  // Mirror left and right with probability 1/2.
  bool horizontal_flip = false;
  std::uint64_t seed = 0;
};

// Selects the random draws of one image in one epoch.
struct AugmentationKey {
  std::int64_t epoch = 0, index = 0;
};

// Writes `decoded` as [3, height, width] floats to `out`: square crop and resize (or resize of the shorter side and
// centre crop), then (when `augmentation` is given) flip and pad-and-crop, then normalisation.
void transform_image(const Image& decoded, const ImageTransform& transform, std::optional<AugmentationKey> augmentation,
                     float* out);
// The same with the scratch's memory (`decoded` may be scratch.decoded).
void transform_image(const Image& decoded, const ImageTransform& transform, std::optional<AugmentationKey> augmentation,
                     float* out, ImageScratch& scratch);

}  // namespace kiln::data
