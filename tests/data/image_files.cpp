#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include "tests/data/image_files.h"

#include <stb/stb_image_write.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

namespace kiln::test {

namespace fs = std::filesystem;

namespace {

void check_written(int status, const fs::path& path) {
  if (status == 0) throw std::runtime_error("could not write test image " + path.string());
}

}  // namespace

TemporaryFolder::TemporaryFolder(const std::string& name)
    : path_(fs::temp_directory_path() / ("kiln_" + name + "_" + std::to_string(::getpid()))) {
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TemporaryFolder::~TemporaryFolder() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

Pixels pattern(int width, int height, int channels, int seed) {
  Pixels pixels{width, height, channels, {}};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        const unsigned hash = static_cast<unsigned>(x * 73 + y * 151 + c * 37 + seed * 101) * 2654435761u;
        pixels.bytes.push_back(static_cast<std::uint8_t>(hash >> 24));
      }
    }
  }
  return pixels;
}

Pixels solid(int width, int height, std::uint8_t red, std::uint8_t green, std::uint8_t blue) {
  Pixels pixels{width, height, 3, {}};
  for (int i = 0; i < width * height; ++i) pixels.bytes.insert(pixels.bytes.end(), {red, green, blue});
  return pixels;
}

void write_png(const fs::path& path, const Pixels& pixels) {
  fs::create_directories(path.parent_path());
  check_written(stbi_write_png(path.c_str(), pixels.width, pixels.height, pixels.channels, pixels.bytes.data(),
                               pixels.width * pixels.channels),
                path);
}

void write_jpeg(const fs::path& path, const Pixels& pixels) {
  fs::create_directories(path.parent_path());
  check_written(stbi_write_jpg(path.c_str(), pixels.width, pixels.height, pixels.channels, pixels.bytes.data(), 95),
                path);
}

void write_bmp(const fs::path& path, const Pixels& pixels) {
  fs::create_directories(path.parent_path());
  check_written(stbi_write_bmp(path.c_str(), pixels.width, pixels.height, pixels.channels, pixels.bytes.data()), path);
}

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

}  // namespace kiln::test
