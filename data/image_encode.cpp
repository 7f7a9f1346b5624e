// PNG encoding through stb_image_write, compiled here with internal linkage (the HTML report has its own copy).
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <string_view>

#include "kiln/atomic_file.h"
#include "kiln/data/image_bytes.h"
#include "kiln/error.h"

namespace kiln::data {

std::vector<std::uint8_t> encode_png(const ImageBytes& image) {
  KILN_CHECK(image.channels >= 1 && image.channels <= 4 && image.height > 0 && image.width > 0 &&
                 image.samples.size() == static_cast<std::size_t>(image.height * image.width * image.channels),
             "encode_png: ", image.height, "x", image.width, "x", image.channels, " image with ", image.samples.size(),
             " samples");
  std::vector<std::uint8_t> png;
  const auto append = [](void* sink, void* data, int size) {
    auto* bytes = static_cast<std::uint8_t*>(data);
    auto* out = static_cast<std::vector<std::uint8_t>*>(sink);
    out->insert(out->end(), bytes, bytes + size);
  };
  KILN_CHECK(stbi_write_png_to_func(append, &png, static_cast<int>(image.width), static_cast<int>(image.height),
                                    image.channels, image.samples.data(),
                                    static_cast<int>(image.width * image.channels)) != 0,
             "encode_png: stb_image_write failed on a ", image.height, "x", image.width, " image");
  return png;
}

void write_png(const std::string& path, const ImageBytes& image, const std::string& what) {
  const std::vector<std::uint8_t> png = encode_png(image);
  write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()), what);
}

}  // namespace kiln::data
