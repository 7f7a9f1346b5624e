#include <algorithm>
#include <cmath>

#include "kernels/resize.h"
#include "kiln/data/image.h"
#include "kiln/error.h"

namespace kiln::data {

namespace {

constexpr std::int64_t channels = 3;

// Output position o of one axis is the sum over t < taps of weight[o * taps + t] * input[index[o * taps + t]].
struct AxisTaps {
  std::int64_t taps = 0;
  std::vector<std::int64_t> index;
  std::vector<float> weight;
};

AxisTaps bilinear_taps(std::int64_t in_size, std::int64_t out_size) {
  const auto axis = kernels::cpu::resize_axis<float>(in_size, out_size, ResizeMode::half_pixel);
  AxisTaps result{2, {}, {}};
  for (std::int64_t o = 0; o < out_size; ++o) {
    result.index.insert(result.index.end(), {axis.low[o], axis.high[o]});
    result.weight.insert(result.weight.end(), {1.0f - axis.frac[o], axis.frac[o]});
  }
  return result;
}

// Output o covers input interval [o * scale, (o + 1) * scale); each input pixel counts by its overlap.
AxisTaps area_taps(std::int64_t in_size, std::int64_t out_size) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  // An interval of length scale touches at most ceil(scale) + 1 pixels; one more absorbs rounding at its ends.
  AxisTaps result{static_cast<std::int64_t>(std::ceil(scale)) + 2, {}, {}};
  for (std::int64_t o = 0; o < out_size; ++o) {
    const double start = static_cast<double>(o) * scale, end = static_cast<double>(o + 1) * scale;
    const std::int64_t first = static_cast<std::int64_t>(std::floor(start));
    const std::int64_t last = std::min(in_size, static_cast<std::int64_t>(std::ceil(end)));
    std::int64_t used = 0;
    for (std::int64_t i = first; i < last && used < result.taps; ++i, ++used) {
      const double overlap = std::min(end, static_cast<double>(i + 1)) - std::max(start, static_cast<double>(i));
      result.index.push_back(i);
      result.weight.push_back(static_cast<float>(std::max(overlap, 0.0) / scale));
    }
    for (; used < result.taps; ++used) {
      result.index.push_back(0);
      result.weight.push_back(0.0f);
    }
  }
  return result;
}

AxisTaps axis_taps(std::int64_t in_size, std::int64_t out_size) {
  if (out_size > in_size) return bilinear_taps(in_size, out_size);
  if (out_size < in_size) return area_taps(in_size, out_size);
  AxisTaps identity{1, std::vector<std::int64_t>(static_cast<std::size_t>(in_size)),
                    std::vector<float>(static_cast<std::size_t>(in_size), 1.0f)};
  for (std::int64_t i = 0; i < in_size; ++i) identity.index[static_cast<std::size_t>(i)] = i;
  return identity;
}

void check_window(const Image& image, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width) {
  KILN_CHECK(
      height > 0 && width > 0 && top >= 0 && left >= 0 && top + height <= image.height && left + width <= image.width,
      "crop_image: a ", height, "x", width, " window at (", top, ", ", left, ") does not fit a ", image.height, "x",
      image.width, " image");
}

}  // namespace

Image crop_image(const Image& image, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width) {
  check_window(image, top, left, height, width);
  Image cropped{height, width, std::vector<float>(static_cast<std::size_t>(channels * height * width))};
  for (std::int64_t channel = 0; channel < channels; ++channel) {
    for (std::int64_t row = 0; row < height; ++row) {
      const float* source = image.pixels.data() + (channel * image.height + top + row) * image.width + left;
      std::copy(source, source + width, cropped.pixels.data() + (channel * height + row) * width);
    }
  }
  return cropped;
}

std::int64_t square_crop_range(const Image& image) { return std::abs(image.width - image.height); }

Image square_crop(const Image& image, std::int64_t offset) {
  KILN_CHECK(offset >= 0 && offset <= square_crop_range(image), "square_crop: offset ", offset, " outside 0..",
             square_crop_range(image), " for a ", image.height, "x", image.width, " image");
  const std::int64_t side = std::min(image.height, image.width);
  return image.width >= image.height ? crop_image(image, 0, offset, side, side)
                                     : crop_image(image, offset, 0, side, side);
}

Image resize_image(const Image& image, std::int64_t height, std::int64_t width) {
  KILN_CHECK(height > 0 && width > 0 && image.height > 0 && image.width > 0, "resize_image: cannot resize a ",
             image.height, "x", image.width, " image to ", height, "x", width);
  if (height == image.height && width == image.width) return image;
  const AxisTaps columns = axis_taps(image.width, width), rows = axis_taps(image.height, height);
  // Columns first, into [channels * in_height, width], then rows.
  std::vector<float> narrowed(static_cast<std::size_t>(channels * image.height * width));
  for (std::int64_t line = 0; line < channels * image.height; ++line) {
    const float* source = image.pixels.data() + line * image.width;
    float* destination = narrowed.data() + line * width;
    for (std::int64_t o = 0; o < width; ++o) {
      float sum = 0;
      for (std::int64_t t = o * columns.taps; t < (o + 1) * columns.taps; ++t) {
        sum += columns.weight[static_cast<std::size_t>(t)] * source[columns.index[static_cast<std::size_t>(t)]];
      }
      destination[o] = sum;
    }
  }
  Image resized{height, width, std::vector<float>(static_cast<std::size_t>(channels * height * width), 0.0f)};
  for (std::int64_t channel = 0; channel < channels; ++channel) {
    const float* plane = narrowed.data() + channel * image.height * width;
    for (std::int64_t o = 0; o < height; ++o) {
      float* destination = resized.pixels.data() + (channel * height + o) * width;
      for (std::int64_t t = o * rows.taps; t < (o + 1) * rows.taps; ++t) {
        const float weight = rows.weight[static_cast<std::size_t>(t)];
        if (weight == 0.0f) continue;
        const float* source = plane + rows.index[static_cast<std::size_t>(t)] * width;
        for (std::int64_t column = 0; column < width; ++column) destination[column] += weight * source[column];
      }
    }
  }
  return resized;
}

Image resize_shorter_side(const Image& image, std::int64_t side) {
  KILN_CHECK(side > 0, "resize_shorter_side: the side must be positive, got ", side);
  const std::int64_t shorter = std::min(image.height, image.width), longer = std::max(image.height, image.width);
  // As torchvision computes it: int(side * long / short) in floating point.
  const auto scaled_longer =
      static_cast<std::int64_t>(static_cast<double>(side * longer) / static_cast<double>(shorter));
  return image.height <= image.width ? resize_image(image, side, scaled_longer)
                                     : resize_image(image, scaled_longer, side);
}

Image centre_crop(const Image& image, std::int64_t height, std::int64_t width) {
  // std::nearbyint rounds halves to even in the default rounding mode, as Python's round() does.
  const auto offset = [](std::int64_t size, std::int64_t crop) {
    return static_cast<std::int64_t>(std::nearbyint(static_cast<double>(size - crop) / 2.0));
  };
  KILN_CHECK(height > 0 && width > 0 && height <= image.height && width <= image.width, "centre_crop: a ", height,
             "x", width, " window does not fit a ", image.height, "x", image.width, " image");
  return crop_image(image, offset(image.height, height), offset(image.width, width), height, width);
}

void flip_horizontally(Image& image) {
  for (std::int64_t line = 0; line < channels * image.height; ++line) {
    float* row = image.pixels.data() + line * image.width;
    std::reverse(row, row + image.width);
  }
}

}  // namespace kiln::data
