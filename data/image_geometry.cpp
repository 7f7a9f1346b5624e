#include <algorithm>
#include <cmath>

#include "kernels/resize.h"
#include "kiln/data/image.h"
#include "kiln/error.h"

namespace kiln::data {

namespace {

constexpr std::int64_t channels = 3;

// The sampling of one axis, appended to `index` and `weight`: output position o is the sum over t < taps of
// weight[first + o * taps + t] * input[index[first + o * taps + t]], first being the tables' size before the call.
// Returns taps.
std::int64_t bilinear_taps(std::int64_t in_size, std::int64_t out_size, std::vector<std::int64_t>& index,
                           std::vector<float>& weight) {
  const auto axis = kernels::cpu::resize_axis<float>(in_size, out_size, ResizeMode::half_pixel);
  for (std::int64_t o = 0; o < out_size; ++o) {
    index.insert(index.end(), {axis.low[o], axis.high[o]});
    weight.insert(weight.end(), {1.0f - axis.frac[o], axis.frac[o]});
  }
  return 2;
}

// Output o covers input interval [o * scale, (o + 1) * scale); each input pixel counts by its overlap.
std::int64_t area_taps(std::int64_t in_size, std::int64_t out_size, std::vector<std::int64_t>& index,
                       std::vector<float>& weight) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  // An interval of length scale touches at most ceil(scale) + 1 pixels; one more absorbs rounding at its ends.
  const std::int64_t taps = static_cast<std::int64_t>(std::ceil(scale)) + 2;
  for (std::int64_t o = 0; o < out_size; ++o) {
    const double start = static_cast<double>(o) * scale, end = static_cast<double>(o + 1) * scale;
    const std::int64_t first = static_cast<std::int64_t>(std::floor(start));
    const std::int64_t last = std::min(in_size, static_cast<std::int64_t>(std::ceil(end)));
    std::int64_t used = 0;
    for (std::int64_t i = first; i < last && used < taps; ++i, ++used) {
      const double overlap = std::min(end, static_cast<double>(i + 1)) - std::max(start, static_cast<double>(i));
      index.push_back(i);
      weight.push_back(static_cast<float>(std::max(overlap, 0.0) / scale));
    }
    for (; used < taps; ++used) {
      index.push_back(0);
      weight.push_back(0.0f);
    }
  }
  return taps;
}

std::int64_t axis_taps(std::int64_t in_size, std::int64_t out_size, std::vector<std::int64_t>& index,
                       std::vector<float>& weight) {
  if (out_size > in_size) return bilinear_taps(in_size, out_size, index, weight);
  if (out_size < in_size) return area_taps(in_size, out_size, index, weight);
  for (std::int64_t i = 0; i < in_size; ++i) {
    index.push_back(i);
    weight.push_back(1.0f);
  }
  return 1;
}

void check_window(const Image& image, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width) {
  KILN_CHECK(
      height > 0 && width > 0 && top >= 0 && left >= 0 && top + height <= image.height && left + width <= image.width,
      "crop_image: a ", height, "x", width, " window at (", top, ", ", left, ") does not fit a ", image.height, "x",
      image.width, " image");
}

}  // namespace

Image crop_image(const Image& image, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width) {
  Image cropped;
  crop_image(image, top, left, height, width, cropped);
  return cropped;
}

void crop_image(const Image& image, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width,
                Image& out) {
  check_window(image, top, left, height, width);
  out.height = height;
  out.width = width;
  out.pixels.resize(static_cast<std::size_t>(channels * height * width));
  for (std::int64_t channel = 0; channel < channels; ++channel) {
    for (std::int64_t row = 0; row < height; ++row) {
      const float* source = image.pixels.data() + (channel * image.height + top + row) * image.width + left;
      std::copy(source, source + width, out.pixels.data() + (channel * height + row) * width);
    }
  }
}

std::int64_t square_crop_range(const Image& image) { return std::abs(image.width - image.height); }

Image square_crop(const Image& image, std::int64_t offset) {
  Image square;
  square_crop(image, offset, square);
  return square;
}

void square_crop(const Image& image, std::int64_t offset, Image& out) {
  KILN_CHECK(offset >= 0 && offset <= square_crop_range(image), "square_crop: offset ", offset, " outside 0..",
             square_crop_range(image), " for a ", image.height, "x", image.width, " image");
  const std::int64_t side = std::min(image.height, image.width);
  if (image.width >= image.height) {
    crop_image(image, 0, offset, side, side, out);
  } else {
    crop_image(image, offset, 0, side, side, out);
  }
}

Image resize_image(const Image& image, std::int64_t height, std::int64_t width) {
  ImageScratch scratch;
  Image resized;
  resize_image(image, height, width, resized, scratch);
  return resized;
}

void resize_image(const Image& image, std::int64_t height, std::int64_t width, Image& out, ImageScratch& scratch) {
  KILN_CHECK(height > 0 && width > 0 && image.height > 0 && image.width > 0, "resize_image: cannot resize a ",
             image.height, "x", image.width, " image to ", height, "x", width);
  out.height = height;
  out.width = width;
  if (height == image.height && width == image.width) {
    out.pixels.assign(image.pixels.begin(), image.pixels.end());
    return;
  }
  // Columns' taps, then rows'.
  std::vector<std::int64_t>& index = scratch.tap_index;
  std::vector<float>& weight = scratch.tap_weight;
  index.clear();
  weight.clear();
  const std::int64_t column_taps = axis_taps(image.width, width, index, weight);
  const auto row_first = static_cast<std::int64_t>(index.size());
  const std::int64_t row_taps = axis_taps(image.height, height, index, weight);
  // Columns first, into [channels * in_height, width], then rows.
  std::vector<float>& narrowed = scratch.narrowed;
  narrowed.resize(static_cast<std::size_t>(channels * image.height * width));
  for (std::int64_t line = 0; line < channels * image.height; ++line) {
    const float* source = image.pixels.data() + line * image.width;
    float* destination = narrowed.data() + line * width;
    for (std::int64_t o = 0; o < width; ++o) {
      float sum = 0;
      for (std::int64_t t = o * column_taps; t < (o + 1) * column_taps; ++t) {
        sum += weight[static_cast<std::size_t>(t)] * source[index[static_cast<std::size_t>(t)]];
      }
      destination[o] = sum;
    }
  }
  out.pixels.assign(static_cast<std::size_t>(channels * height * width), 0.0f);
  for (std::int64_t channel = 0; channel < channels; ++channel) {
    const float* plane = narrowed.data() + channel * image.height * width;
    for (std::int64_t o = 0; o < height; ++o) {
      float* destination = out.pixels.data() + (channel * height + o) * width;
      for (std::int64_t t = row_first + o * row_taps; t < row_first + (o + 1) * row_taps; ++t) {
        const float tap_weight = weight[static_cast<std::size_t>(t)];
        if (tap_weight == 0.0f) continue;
        const float* source = plane + index[static_cast<std::size_t>(t)] * width;
        for (std::int64_t column = 0; column < width; ++column) destination[column] += tap_weight * source[column];
      }
    }
  }
}

Image resize_shorter_side(const Image& image, std::int64_t side) {
  ImageScratch scratch;
  Image resized;
  resize_shorter_side(image, side, resized, scratch);
  return resized;
}

void resize_shorter_side(const Image& image, std::int64_t side, Image& out, ImageScratch& scratch) {
  KILN_CHECK(side > 0, "resize_shorter_side: the side must be positive, got ", side);
  const std::int64_t shorter = std::min(image.height, image.width), longer = std::max(image.height, image.width);
  // As torchvision computes it: int(side * long / short) in floating point.
  const auto scaled_longer =
      static_cast<std::int64_t>(static_cast<double>(side * longer) / static_cast<double>(shorter));
  if (image.height <= image.width) {
    resize_image(image, side, scaled_longer, out, scratch);
  } else {
    resize_image(image, scaled_longer, side, out, scratch);
  }
}

Image centre_crop(const Image& image, std::int64_t height, std::int64_t width) {
  Image cropped;
  centre_crop(image, height, width, cropped);
  return cropped;
}

void centre_crop(const Image& image, std::int64_t height, std::int64_t width, Image& out) {
  // std::nearbyint rounds halves to even in the default rounding mode, as Python's round() does.
  const auto offset = [](std::int64_t size, std::int64_t crop) {
    return static_cast<std::int64_t>(std::nearbyint(static_cast<double>(size - crop) / 2.0));
  };
  KILN_CHECK(height > 0 && width > 0 && height <= image.height && width <= image.width, "centre_crop: a ", height,
             "x", width, " window does not fit a ", image.height, "x", image.width, " image");
  crop_image(image, offset(image.height, height), offset(image.width, width), height, width, out);
}

void flip_horizontally(Image& image) {
  for (std::int64_t line = 0; line < channels * image.height; ++line) {
    float* row = image.pixels.data() + line * image.width;
    std::reverse(row, row + image.width);
  }
}

}  // namespace kiln::data
