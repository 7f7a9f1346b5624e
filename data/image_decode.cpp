#include <stb/stb_image.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>

#include "kiln/data/image.h"
#include "kiln/error.h"

namespace kiln::data {

namespace {

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  KILN_CHECK(file.is_open(), path, ": cannot open (", std::strerror(errno), ")");
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  KILN_CHECK(!file.bad(), path, ": read error");
  return bytes;
}

}  // namespace

Image decode_image(const std::string& path) { return decode_image(read_file(path), path); }

Image decode_image(std::span<const std::uint8_t> bytes, const std::string& name) {
  KILN_CHECK(!bytes.empty(), name, ": empty file, not an image");
  KILN_CHECK(bytes.size() <= static_cast<std::size_t>(std::numeric_limits<int>::max()), name, ": ", bytes.size(),
             " bytes is larger than any image kiln decodes");
  int width = 0, height = 0, channels_in_file = 0;
  constexpr int rgb = 3;
  const std::unique_ptr<stbi_uc, void (*)(void*)> decoded(
      stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &width, &height, &channels_in_file, rgb),
      stbi_image_free);
  KILN_CHECK(decoded != nullptr, name, ": not a readable JPEG, PNG or BMP image (stb_image: ", stbi_failure_reason(),
             ")");
  Image image;
  image.height = height;
  image.width = width;
  const std::int64_t plane = image.height * image.width;
  image.pixels.resize(static_cast<std::size_t>(rgb * plane));
  // Interleaved RGB bytes to planes.
  for (std::int64_t pixel = 0; pixel < plane; ++pixel) {
    for (int channel = 0; channel < rgb; ++channel) {
      image.pixels[static_cast<std::size_t>(channel * plane + pixel)] =
          static_cast<float>(decoded.get()[pixel * rgb + channel]) / 255.0f;
    }
  }
  return image;
}

}  // namespace kiln::data
