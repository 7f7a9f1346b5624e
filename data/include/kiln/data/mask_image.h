#pragma once
// Segmentation masks as pictures: a mask in its classes' colours, the same blended over its image, and float images
// as 8-bit RGB, for kiln segment's files and the evaluation report.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/data/image.h"
#include "kiln/data/image_bytes.h"
#include "kiln/data/segmentation_set.h"
#include "kiln/tensor.h"

namespace kiln::data {

// RGB: each pixel in its class's colour, `ignore_color` where it holds `ignore_label`. A label that is neither a
// class index nor the ignore label throws naming the pixel and the label.
ImageBytes colorize_mask(const Mask& mask, const ClassList& classes,
                         std::array<std::uint8_t, 3> ignore_color = {255, 255, 255},
                         std::int32_t ignore_label = default_ignore_label);

// The image's planes in [0, 1] as interleaved RGB bytes, round(255 x), values outside [0, 1] (and NaN, as 0) clamped.
ImageBytes to_image_bytes(const Image& image);

// RGB round((1 - alpha) * 255 * image + alpha * colors) per sample, the image clamped as to_image_bytes does: alpha 0
// is the image, 1 the colours. `colors` is RGB of the image's size (the error gives both sizes); alpha in [0, 1].
ImageBytes overlay_mask(const Image& image, const ImageBytes& colors, float alpha = 0.5f);

// Mask colours for a class list that records none: CMP facade's (cmp_facade_classes) for 5 classes, else the
// PASCAL VOC colour map (class 0 black, 1 (128, 0, 0), 2 (0, 128, 0), 3 (128, 128, 0), ...: the index's bits dealt
// to red, green and blue in turn, from each channel's high bit down): distinct, and never the ignore white, for
// up to 2^24 - 1 classes (more throw).
std::vector<std::array<std::uint8_t, 3>> default_class_colors(std::size_t classes);

// The named classes in `colors` (one per name; none: default_class_colors), as a checkpoint or report records them.
ClassList class_list(const std::vector<std::string>& names, const std::vector<std::array<std::uint8_t, 3>>& colors);

// Each pixel's best class (the lower index on ties) from scores [N, C, H, W] on any device: one mask per image.
std::vector<Mask> predicted_masks(const Tensor& scores);

}  // namespace kiln::data
