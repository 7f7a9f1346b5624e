#pragma once
// 8-bit images as files store them, for samples that are not intensities to rescale (segmentation masks: class
// indices or class colours), and PNG encoding of such images.
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::data {

// samples holds height * width * channels bytes, interleaved, row-major.
struct ImageBytes {
  std::int64_t height = 0, width = 0;
  int channels = 0;
  std::vector<std::uint8_t> samples;
};

// A JPEG, PNG or BMP file's samples as stored: 1 channel (gray), 2 (gray, alpha), 3 (RGB) or 4 (RGBA). A palette PNG
// comes out as RGB(A) through its palette: stb_image gives no access to the indices. Throws naming the file when it
// cannot be read or holds 16-bit samples (stb_image would rescale them, changing the values).
ImageBytes decode_image_bytes(const std::string& path);

// `image` (1 to 4 channels) as a PNG file's bytes.
std::vector<std::uint8_t> encode_png(const ImageBytes& image);
// Writes it to `path` atomically (kiln/atomic_file.h); errors name `what` and the path.
void write_png(const std::string& path, const ImageBytes& image, const std::string& what);

}  // namespace kiln::data
