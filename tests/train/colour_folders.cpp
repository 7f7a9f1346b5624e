#include "tests/train/colour_folders.h"

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tests/data/image_files.h"

namespace kiln::test {

namespace {

Pixels coloured(const ColourImages& images, const std::array<int, 3>& colour, int seed) {
  if (images.texture_noise) {
    Pixels pixels = pattern(images.width, images.height, 3, seed);
    const unsigned hash = static_cast<unsigned>(seed + 1) * 2654435761u;
    const int shift = static_cast<int>(hash % static_cast<unsigned>(2 * images.brightness + 1)) - images.brightness;
    for (std::size_t i = 0; i < pixels.bytes.size(); ++i) {
      const int value = colour[i % 3] + shift + pixels.bytes[i] * 2 * images.noise / 255 - images.noise;
      pixels.bytes[i] = static_cast<std::uint8_t>(std::clamp(value, 0, 255));
    }
    return pixels;
  }
  std::mt19937 generator(static_cast<std::uint32_t>(seed));
  const auto level = [&generator](int range) {
    return static_cast<int>(generator() % static_cast<unsigned>(2 * range + 1)) - range;
  };
  const int shift = images.brightness > 0 ? level(images.brightness) : 0;
  Pixels pixels{images.width, images.height, 3, {}};
  pixels.bytes.resize(static_cast<std::size_t>(images.width) * static_cast<std::size_t>(images.height) * 3);
  for (std::size_t i = 0; i < pixels.bytes.size(); ++i) {
    pixels.bytes[i] = static_cast<std::uint8_t>(std::clamp(colour[i % 3] + shift + level(images.noise), 0, 255));
  }
  return pixels;
}

}  // namespace

void write_colour_classes(const std::filesystem::path& root, const ColourImages& images) {
  const std::vector<std::pair<std::string, std::array<int, 3>>> classes = {
      {"blue", {40, 60, 200}}, {"green", {50, 190, 60}}, {"red", {200, 50, 40}}};
  int seed = images.first_seed;
  for (const auto& [name, colour] : classes) {
    for (int i = 0; i < images.per_class; ++i, ++seed) {
      const std::string stem = (root / name / std::to_string(i)).string();
      if (i % 2 == 0) {
        write_png(stem + ".png", coloured(images, colour, seed));
      } else {
        write_jpeg(stem + ".jpg", coloured(images, colour, seed));
      }
    }
  }
}

void write_colour_classes(const std::filesystem::path& root, int per_class, int width, int height) {
  write_colour_classes(root, ColourImages{per_class, width, height});
}

}  // namespace kiln::test
