#pragma once
// Test helpers that write small image files (PNG, JPEG, BMP through stb_image_write) into a temporary folder.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace kiln::test {

// A fresh folder under the system's temporary folder, removed with everything in it at the end of the test.
class TemporaryFolder {
 public:
  explicit TemporaryFolder(const std::string& name);
  ~TemporaryFolder();
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& relative) const { return path_ / relative; }

 private:
  std::filesystem::path path_;
};

// Interleaved 8-bit pixels: height * width * channels bytes. Parent folders are created.
struct Pixels {
  int width = 0, height = 0, channels = 3;
  std::vector<std::uint8_t> bytes;
};
// Deterministic, varied content: byte (y * width + x) * channels + c is a hash of (x, y, c, seed).
Pixels pattern(int width, int height, int channels, int seed);
// Every pixel the same colour.
Pixels solid(int width, int height, std::uint8_t red, std::uint8_t green, std::uint8_t blue);

void write_png(const std::filesystem::path& path, const Pixels& pixels);
void write_jpeg(const std::filesystem::path& path, const Pixels& pixels);  // quality 95
void write_bmp(const std::filesystem::path& path, const Pixels& pixels);
void write_text(const std::filesystem::path& path, const std::string& text);

}  // namespace kiln::test
