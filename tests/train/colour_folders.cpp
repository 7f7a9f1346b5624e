#include "tests/train/colour_folders.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "tests/data/image_files.h"

namespace kiln::test {

namespace {

Pixels noisy(int width, int height, const std::array<int, 3>& colour, int seed) {
  Pixels pixels = pattern(width, height, 3, seed);
  for (std::size_t i = 0; i < pixels.bytes.size(); ++i) {
    const int value = colour[i % 3] + pixels.bytes[i] * 96 / 255 - 48;
    pixels.bytes[i] = static_cast<std::uint8_t>(std::clamp(value, 0, 255));
  }
  return pixels;
}

}  // namespace

void write_colour_classes(const std::filesystem::path& root, int per_class, int width, int height) {
  const std::vector<std::pair<std::string, std::array<int, 3>>> classes = {
      {"blue", {40, 60, 200}}, {"green", {50, 190, 60}}, {"red", {200, 50, 40}}};
  int seed = 0;
  for (const auto& [name, colour] : classes) {
    for (int i = 0; i < per_class; ++i, ++seed) {
      const std::string stem = (root / name / std::to_string(i)).string();
      if (i % 2 == 0) {
        write_png(stem + ".png", noisy(width, height, colour, seed));
      } else {
        write_jpeg(stem + ".jpg", noisy(width, height, colour, seed));
      }
    }
  }
}

}  // namespace kiln::test
