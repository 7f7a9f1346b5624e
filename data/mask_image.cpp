#include "kiln/data/mask_image.h"

#include <algorithm>
#include <cmath>

#include "kiln/error.h"

namespace kiln::data {

namespace {

// 255 x rounded half away from zero; outside [0, 1] clamped, NaN (failing both comparisons) to 0.
double clamped_level(float value) {
  if (!(value > 0)) return 0;
  return value < 1 ? 255.0 * value : 255.0;
}

std::uint8_t to_byte(double level) { return static_cast<std::uint8_t>(std::lround(level)); }

void check_planes(const Image& image, const char* what) {
  KILN_CHECK(image.height > 0 && image.width > 0 &&
                 image.pixels.size() == static_cast<std::size_t>(3 * image.height * image.width),
             what, ": a ", image.height, "x", image.width, " image needs ", 3 * image.height * image.width,
             " samples (3 planes), got ", image.pixels.size());
}

}  // namespace

ImageBytes colorize_mask(const Mask& mask, const ClassList& classes, std::array<std::uint8_t, 3> ignore_color,
                         std::int32_t ignore_label) {
  const std::int64_t pixels = mask.height * mask.width;
  KILN_CHECK(mask.height > 0 && mask.width > 0 && mask.labels.size() == static_cast<std::size_t>(pixels),
             "colorize_mask: a ", mask.height, "x", mask.width, " mask with ", mask.labels.size(), " labels");
  ImageBytes image{mask.height, mask.width, 3, std::vector<std::uint8_t>(static_cast<std::size_t>(3 * pixels))};
  for (std::int64_t p = 0; p < pixels; ++p) {
    const std::int32_t label = mask.labels[static_cast<std::size_t>(p)];
    const bool known = label >= 0 && static_cast<std::size_t>(label) < classes.size();
    KILN_CHECK(known || label == ignore_label, "colorize_mask: pixel (x ", p % mask.width, ", y ", p / mask.width,
               ") has label ", label, ", which is neither one of the ", classes.size(),
               " classes nor the ignore label ", ignore_label);
    const std::array<std::uint8_t, 3>& color =
        label == ignore_label ? ignore_color : classes[static_cast<std::size_t>(label)].color;
    std::copy(color.begin(), color.end(), image.samples.begin() + 3 * p);
  }
  return image;
}

ImageBytes to_image_bytes(const Image& image) {
  check_planes(image, "to_image_bytes");
  const std::int64_t plane = image.height * image.width;
  ImageBytes bytes{image.height, image.width, 3, std::vector<std::uint8_t>(static_cast<std::size_t>(3 * plane))};
  for (std::int64_t p = 0; p < plane; ++p) {
    for (std::int64_t c = 0; c < 3; ++c) {
      bytes.samples[static_cast<std::size_t>(3 * p + c)] =
          to_byte(clamped_level(image.pixels[static_cast<std::size_t>(c * plane + p)]));
    }
  }
  return bytes;
}

ImageBytes overlay_mask(const Image& image, const ImageBytes& colors, float alpha) {
  check_planes(image, "overlay_mask");
  KILN_CHECK(colors.channels == 3 && colors.height == image.height && colors.width == image.width &&
                 colors.samples.size() == static_cast<std::size_t>(3 * colors.height * colors.width),
             "overlay_mask: the colours are ", colors.height, "x", colors.width, "x", colors.channels, " for a ",
             image.height, "x", image.width, " image (expected ", image.height, "x", image.width, "x3)");
  KILN_CHECK(alpha >= 0 && alpha <= 1, "overlay_mask: alpha ", alpha, " is outside [0, 1]");
  const std::int64_t plane = image.height * image.width;
  ImageBytes blended{image.height, image.width, 3, std::vector<std::uint8_t>(static_cast<std::size_t>(3 * plane))};
  for (std::int64_t p = 0; p < plane; ++p) {
    for (std::int64_t c = 0; c < 3; ++c) {
      const auto sample = static_cast<std::size_t>(3 * p + c);
      const double level = clamped_level(image.pixels[static_cast<std::size_t>(c * plane + p)]);
      blended.samples[sample] = to_byte((1.0 - alpha) * level + alpha * static_cast<double>(colors.samples[sample]));
    }
  }
  return blended;
}

std::vector<std::array<std::uint8_t, 3>> default_class_colors(std::size_t classes) {
  constexpr std::size_t white = (std::size_t{1} << 24) - 1;  // the last index the map's 24 bits can tell apart
  KILN_CHECK(classes <= white, "default_class_colors: ", classes, " classes; the default palette has distinct ",
             "colours other than white for ", white, " at most");
  if (classes == 5) {
    std::vector<std::array<std::uint8_t, 3>> colors;
    for (const SegmentationClass& facade_class : cmp_facade_classes()) colors.push_back(facade_class.color);
    return colors;
  }
  std::vector<std::array<std::uint8_t, 3>> colors(classes);
  for (std::size_t index = 0; index < classes; ++index) {
    for (std::size_t bits = index, shift = 7; bits != 0; bits >>= 3, --shift) {
      for (std::size_t c = 0; c < 3; ++c) {
        colors[index][c] = static_cast<std::uint8_t>(colors[index][c] | (((bits >> c) & 1) << shift));
      }
    }
  }
  return colors;
}

ClassList class_list(const std::vector<std::string>& names, const std::vector<std::array<std::uint8_t, 3>>& colors) {
  KILN_CHECK(colors.empty() || colors.size() == names.size(), "class_list: ", names.size(), " class names but ",
             colors.size(), " colours");
  const std::vector<std::array<std::uint8_t, 3>> chosen = colors.empty() ? default_class_colors(names.size()) : colors;
  ClassList classes;
  for (std::size_t c = 0; c < names.size(); ++c) classes.push_back({names[c], chosen[c]});
  return classes;
}

std::vector<Mask> predicted_masks(const Tensor& scores) {
  KILN_CHECK(scores.dim() == 4 && scores.size(1) > 0, "predicted_masks: scores ", shape_str(scores.shape()),
             " (expected [N, C, H, W] with C > 0)");
  const Tensor host = scores.cpu().to(DType::f32);
  const std::int64_t count = host.size(0), classes = host.size(1), plane = host.size(2) * host.size(3);
  std::vector<Mask> masks;
  for (std::int64_t n = 0; n < count; ++n) {
    const float* image = host.data<float>() + n * classes * plane;
    Mask mask{host.size(2), host.size(3), std::vector<std::int32_t>(static_cast<std::size_t>(plane), 0)};
    for (std::int64_t p = 0; p < plane; ++p) {
      float best = image[p];
      for (std::int64_t c = 1; c < classes; ++c) {
        if (image[c * plane + p] > best) {
          best = image[c * plane + p];
          mask.labels[static_cast<std::size_t>(p)] = static_cast<std::int32_t>(c);
        }
      }
    }
    masks.push_back(std::move(mask));
  }
  return masks;
}

}  // namespace kiln::data
