#pragma once
// One decoded image as float RGB planes, and the geometric operations the image pipeline applies to it: cropping,
// resizing (bilinear when enlarging, area averaging when shrinking) and flipping.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kiln::data {

// pixels holds [3, height, width] (R, G and B planes, row-major) scaled to [0, 1].
struct Image {
  std::int64_t height = 0, width = 0;
  std::vector<float> pixels;
};

// Memory that reading, decoding and resizing reuse from one image to the next: once it has served the largest image
// of a stream, the rest of the stream takes nothing from the system allocator (the asynchronous reader keeps one per
// decoder thread). For one thread at a time; the images in it are overwritten by the next call that uses it.
struct ImageScratch {
  std::vector<std::uint8_t> file;         // the encoded bytes
  std::vector<std::max_align_t> decoder;  // stb_image's working memory (image_decode.cpp)
  std::vector<std::int64_t> tap_index;    // resize_image's sampling of both axes
  std::vector<float> tap_weight, narrowed;
  Image decoded, intermediate, resized;  // decode_image's result, transform_image's steps

  // Gives back every buffer above `bytes`, so that a decoder thread that met a photo of tens of megapixels does not
  // keep its hundreds of megabytes; streams of smaller images keep all they use.
  void release_above(std::size_t bytes);
};
// What load_into keeps per buffer between images.
inline constexpr std::size_t retained_scratch_bytes = std::size_t(64) << 20;

// JPEG, PNG or BMP through stb_image: grayscale is expanded to three equal channels, alpha is dropped (not
// composited), 16-bit PNG is reduced to 8 bits. Throws kiln::Error naming the file and why it could not be read.
Image decode_image(const std::string& path);
// The same into scratch.decoded, which it returns.
Image& decode_image(const std::string& path, ImageScratch& scratch);
// The same from bytes in memory; `name` only labels error messages.
Image decode_image(std::span<const std::uint8_t> bytes, const std::string& name);

// The height x width window whose top-left corner is (top, left); it must lie inside the image.
Image crop_image(const Image& image, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width);

// How far a square of the shorter side can slide along the longer one: |width - height|. RoomNet's centre square
// uses offset |width - height| / 2 (rounded down); its training draws the offset uniformly from 0..range.
std::int64_t square_crop_range(const Image& image);
// The side x side square (side = the shorter side) starting `offset` pixels along the longer side.
Image square_crop(const Image& image, std::int64_t offset);

// Resamples each axis separately: an axis that grows is interpolated bilinearly (pixel centres aligned, as
// PyTorch's align_corners=False), one that shrinks is area-averaged (each output pixel is the mean of the input area
// it covers, partial pixels weighted by their overlap), and one that keeps its size is copied.
Image resize_image(const Image& image, std::int64_t height, std::int64_t width);

// torchvision's Resize(side): the shorter side becomes `side` and the longer one side * long / short, rounded down,
// so that the aspect ratio is kept.
Image resize_shorter_side(const Image& image, std::int64_t side);
// torchvision's CenterCrop: the height x width window whose offsets are round((size - crop) / 2), halves to even as
// Python rounds. The window must fit.
Image centre_crop(const Image& image, std::int64_t height, std::int64_t width);

// The operations above into `out` (which must not be `image`), reusing its memory and the scratch's.
void crop_image(const Image& image, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width,
                Image& out);
void square_crop(const Image& image, std::int64_t offset, Image& out);
void resize_image(const Image& image, std::int64_t height, std::int64_t width, Image& out, ImageScratch& scratch);
void resize_shorter_side(const Image& image, std::int64_t side, Image& out, ImageScratch& scratch);
void centre_crop(const Image& image, std::int64_t height, std::int64_t width, Image& out);

// Mirrors left and right, in place.
void flip_horizontally(Image& image);

}  // namespace kiln::data
