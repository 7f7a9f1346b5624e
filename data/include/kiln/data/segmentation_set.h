#pragma once
// Segmentation sets: pairs of an image and a mask of per-pixel class labels, their class list (names and colours),
// and mask decoding and resizing.
//
// Layout: root/images/<path>/<name>.{jpg,jpeg,png,bmp} with root/masks/<path>/<name>.png (same relative path and
// stem, any depth), and optionally root/classes.json: [{"name": "...", "color": [r, g, b]}, ...], index i naming
// label i. Masks are PNGs in one of two forms:
// - one channel (gray; gray + alpha, alpha dropped): the value is the class index, 255 the ignore label;
// - colour (RGB; RGBA, alpha dropped; palette PNGs, which decode to their colours): each pixel's colour is looked up
//   in the class list; white (255, 255, 255) is the ignore label unless a class has that colour.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/data/image.h"
#include "kiln/data/image_folder.h"

namespace kiln::data {

struct SegmentationClass {
  std::string name;
  std::array<std::uint8_t, 3> color{};
};
using ClassList = std::vector<SegmentationClass>;

// The label of pixels that count in no loss or metric, as index masks store it.
inline constexpr std::int32_t default_ignore_label = 255;

// CMP facade's five classes as seed 004 colours them: others, facade, pillar, window, balcony.
ClassList cmp_facade_classes();

// classes.json's text: a JSON array of {"name", "color"} objects; `source` names the file in error messages, which
// also name the entry and field at fault. At least one class; names and colours distinct.
ClassList parse_class_list(const std::string& text, const std::string& source);
std::string format_class_list(const ClassList& classes);  // parse_class_list's format, one class a line
ClassList read_class_list(const std::string& path);

struct SegmentationItem {
  std::string image, mask;  // paths
};

struct SegmentationSet {
  std::vector<SegmentationItem> items;  // sorted by image path
  ClassList classes;                    // empty without classes.json
  std::vector<SkippedFile> skipped;     // images without a mask, masks without an image, other files
};

// The pairs under root (layout above). An image without a mask, a mask without an image, or a file that is neither
// is recorded in `skipped` with the reason. Throws naming the path when images/ or masks/ is missing, classes.json
// is malformed, or no image has a mask.
SegmentationSet list_segmentation_folder(const std::string& root);

// labels holds height * width class indices, row-major; ignored pixels hold the ignore label.
struct Mask {
  std::int64_t height = 0, width = 0;
  std::vector<std::int32_t> labels;
};

// Reads a mask (forms above) and writes `ignore_label` for its ignored pixels. With a class list, an index must name
// a class; a colour mask needs the class list. Errors name the file, and for a bad value the pixel and the value.
Mask decode_mask(const std::string& path, const ClassList& classes, std::int32_t ignore_label = default_ignore_label);

struct SegmentationSample {
  Image image;
  Mask mask;
};
// An item's image and mask, which must have the same size (the error names both files).
SegmentationSample read_segmentation_item(const SegmentationItem& item, const ClassList& classes,
                                          std::int32_t ignore_label = default_ignore_label);

// Nearest-neighbour resampling, which keeps labels labels: output pixel (y, x) takes input pixel
// (floor((y + 0.5) * in_height / height), floor((x + 0.5) * in_width / width)), the pixel whose area holds the
// output pixel's centre (PyTorch's "nearest-exact").
Mask resize_mask_nearest(const Mask& mask, std::int64_t height, std::int64_t width);

}  // namespace kiln::data
