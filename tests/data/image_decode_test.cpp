#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "kiln/data/image.h"
#include "kiln/data/image_transform.h"
#include "tests/data/image_files.h"

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

// The float a decoder gives for byte b.
float unit(int b) { return static_cast<float>(b) / 255.0f; }

// An image whose planes hold the given values (the same in all three channels).
data::Image gray_image(std::int64_t height, std::int64_t width, const std::vector<float>& values) {
  data::Image image{height, width, {}};
  for (int channel = 0; channel < 3; ++channel) image.pixels.insert(image.pixels.end(), values.begin(), values.end());
  return image;
}

std::vector<float> first_plane(const data::Image& image) {
  return {image.pixels.begin(), image.pixels.begin() + image.height * image.width};
}

}  // namespace

TEST_CASE("images: PNG decodes to exact RGB planes in [0, 1]", "[images]") {
  test::TemporaryFolder folder("decode_png");
  const test::Pixels pixels = test::pattern(3, 2, 3, 7);
  test::write_png(folder / "a.png", pixels);
  const data::Image image = data::decode_image((folder / "a.png").string());
  REQUIRE(image.height == 2);
  REQUIRE(image.width == 3);
  REQUIRE(image.pixels.size() == 18);
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 3; ++x) {
      for (int c = 0; c < 3; ++c) {
        CHECK(image.pixels[static_cast<std::size_t>((c * 2 + y) * 3 + x)] == unit(pixels.bytes[(y * 3 + x) * 3 + c]));
      }
    }
  }
}

TEST_CASE("images: grayscale is expanded to three channels, alpha is dropped", "[images]") {
  test::TemporaryFolder folder("decode_channels");
  const test::Pixels gray = test::pattern(4, 3, 1, 1), rgba = test::pattern(4, 3, 4, 2);
  test::write_png(folder / "gray.png", gray);
  test::write_png(folder / "rgba.png", rgba);
  const data::Image from_gray = data::decode_image((folder / "gray.png").string());
  const data::Image from_rgba = data::decode_image((folder / "rgba.png").string());
  for (int pixel = 0; pixel < 12; ++pixel) {
    for (int c = 0; c < 3; ++c) {
      CHECK(from_gray.pixels[static_cast<std::size_t>(c * 12 + pixel)] == unit(gray.bytes[pixel]));
      CHECK(from_rgba.pixels[static_cast<std::size_t>(c * 12 + pixel)] == unit(rgba.bytes[pixel * 4 + c]));
    }
  }
}

TEST_CASE("images: JPEG decodes close to the written colour, BMP exactly", "[images]") {
  test::TemporaryFolder folder("decode_jpeg_bmp");
  test::write_jpeg(folder / "a.jpg", test::solid(16, 16, 200, 40, 90));
  const data::Image jpeg = data::decode_image((folder / "a.jpg").string());
  REQUIRE(jpeg.height == 16);
  for (std::size_t i = 0; i < 256; ++i) {
    CHECK(std::abs(jpeg.pixels[i] - unit(200)) < 4.0f / 255);
    CHECK(std::abs(jpeg.pixels[256 + i] - unit(40)) < 4.0f / 255);
    CHECK(std::abs(jpeg.pixels[512 + i] - unit(90)) < 4.0f / 255);
  }
  const test::Pixels pixels = test::pattern(5, 3, 3, 3);
  test::write_bmp(folder / "a.bmp", pixels);
  const data::Image bmp = data::decode_image((folder / "a.bmp").string());
  CHECK(bmp.pixels[0] == unit(pixels.bytes[0]));
  CHECK(bmp.pixels[15 * 2 + 14] == unit(pixels.bytes[14 * 3 + 2]));
}

TEST_CASE("images: unreadable files are errors naming the file", "[images]") {
  test::TemporaryFolder folder("decode_errors");
  test::write_text(folder / "corrupt.png", "this is not a PNG");
  test::write_text(folder / "empty.jpg", "");
  CHECK_THROWS_WITH(data::decode_image((folder / "corrupt.png").string()),
                    Contains("corrupt.png") && Contains("not a readable JPEG, PNG or BMP"));
  CHECK_THROWS_WITH(data::decode_image((folder / "empty.jpg").string()), Contains("empty.jpg") && Contains("empty"));
  CHECK_THROWS_WITH(data::decode_image((folder / "missing.png").string()),
                    Contains("missing.png") && Contains("cannot open"));
}

TEST_CASE("images: shrinking averages areas (integer and fractional ratios)", "[images]") {
  // 4x4 -> 2x2: each output is the mean of a 2x2 block.
  const data::Image square = gray_image(4, 4, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  const std::vector<float> halved = first_plane(data::resize_image(square, 2, 2));
  CHECK(halved == std::vector<float>{3.5f, 5.5f, 11.5f, 13.5f});
  // 1x3 -> 1x2: each output covers 1.5 inputs: (a + b / 2) / 1.5 and (b / 2 + c) / 1.5.
  const std::vector<float> row = first_plane(data::resize_image(gray_image(1, 3, {3, 6, 9}), 1, 2));
  CHECK(row[0] == Approx((3 + 6 * 0.5) / 1.5));
  CHECK(row[1] == Approx((6 * 0.5 + 9) / 1.5));
}

TEST_CASE("images: enlarging interpolates bilinearly with pixel centres aligned", "[images]") {
  // 1x2 -> 1x4: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
  const std::vector<float> row = first_plane(data::resize_image(gray_image(1, 2, {0, 8}), 1, 4));
  CHECK(row == std::vector<float>{0, 2, 6, 8});
  // Rows grow while columns shrink: 1x4 -> 2x2 gives the pair means on both rows.
  const std::vector<float> mixed = first_plane(data::resize_image(gray_image(1, 4, {0, 2, 4, 6}), 2, 2));
  CHECK(mixed == std::vector<float>{1, 5, 1, 5});
}

TEST_CASE("images: the square crop takes the centre of the longer side", "[images]") {
  const data::Image wide = gray_image(2, 5, {0, 1, 2, 3, 4, 10, 11, 12, 13, 14});
  REQUIRE(data::square_crop_range(wide) == 3);
  CHECK(first_plane(data::square_crop(wide, 3 / 2)) == std::vector<float>{1, 2, 11, 12});
  const data::Image tall = gray_image(4, 2, {0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(first_plane(data::square_crop(tall, 1)) == std::vector<float>{2, 3, 4, 5});
  CHECK_THROWS_WITH(data::square_crop(tall, 3), Contains("offset 3"));

  // Through the transform: a 2x5 image cropped to its centre square then kept at 2x2.
  data::ImageTransform transform;
  transform.height = transform.width = 2;
  transform.square_crop = true;
  std::vector<float> out(12);
  data::transform_image(wide, transform, std::nullopt, out.data());
  CHECK(std::vector<float>(out.begin(), out.begin() + 4) == std::vector<float>{1, 2, 11, 12});
}

TEST_CASE("images: torchvision's evaluation crop, shorter side resized and the centre cropped", "[images]") {
  // Resize(2) of a 4x6 image: 2x3, each output the mean of a 2x2 block (value = 6 * row + column).
  std::vector<float> values(24);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i);
  const data::Image wide = gray_image(4, 6, values);
  const data::Image resized = data::resize_shorter_side(wide, 2);
  REQUIRE((resized.height == 2 && resized.width == 3));
  CHECK(first_plane(resized) == std::vector<float>{3.5f, 5.5f, 7.5f, 15.5f, 17.5f, 19.5f});
  const data::Image tall = data::resize_shorter_side(gray_image(6, 4, values), 2);
  CHECK((tall.height == 3 && tall.width == 2));
  // The longer side is rounded down: 2 * 7 / 3 = 4.67 -> 4.
  const data::Image rounded = data::resize_shorter_side(gray_image(3, 7, std::vector<float>(21, 1.0f)), 2);
  CHECK((rounded.height == 2 && rounded.width == 4));

  // CenterCrop's offsets round((8 - crop) / 2) with halves to even: 2.5 -> 2, 1.5 -> 2, 3.5 -> 4.
  const data::Image row = gray_image(1, 8, {0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(first_plane(data::centre_crop(row, 1, 3)) == std::vector<float>{2, 3, 4});
  CHECK(first_plane(data::centre_crop(row, 1, 5)) == std::vector<float>{2, 3, 4, 5, 6});
  CHECK(first_plane(data::centre_crop(row, 1, 1)) == std::vector<float>{4});
  CHECK_THROWS_WITH(data::centre_crop(row, 2, 1), Contains("does not fit"));

  // Through the transform: 4x6 -> 2x3 -> the centre 2x2 (column offset round(0.5) = 0).
  data::ImageTransform transform;
  transform.height = transform.width = 2;
  transform.resize_shorter = 2;
  std::vector<float> out(12);
  data::transform_image(wide, transform, std::nullopt, out.data());
  CHECK(std::vector<float>(out.begin(), out.begin() + 4) == std::vector<float>{3.5f, 5.5f, 15.5f, 17.5f});
  transform.square_crop = true;
  CHECK_THROWS_WITH(data::transform_image(wide, transform, std::nullopt, out.data()), Contains("square crop"));
}

TEST_CASE("images: normalisation presets", "[images]") {
  const data::Image image = gray_image(1, 2, {0.0f, 1.0f});
  data::ImageTransform transform;
  transform.height = 1;
  transform.width = 2;
  std::vector<float> out(6);
  transform.normalization = data::normalization_preset("[-1,1]");
  data::transform_image(image, transform, std::nullopt, out.data());
  CHECK(out == std::vector<float>{-1, 1, -1, 1, -1, 1});
  transform.normalization = data::normalization_preset("imagenet");
  data::transform_image(image, transform, std::nullopt, out.data());
  CHECK(out[0] == Approx(-0.485 / 0.229));
  CHECK(out[3] == Approx((1 - 0.456) / 0.224));
  CHECK(out[5] == Approx((1 - 0.406) / 0.225));
  transform.normalization = data::normalization_preset("[0,1]");
  data::transform_image(image, transform, std::nullopt, out.data());
  CHECK(out == std::vector<float>{0, 1, 0, 1, 0, 1});
  CHECK_THROWS_WITH(data::normalization_preset("cifar"), Contains("cifar") && Contains("imagenet"));
}

TEST_CASE("images: augmentation depends only on seed, epoch and image index", "[images]") {
  std::vector<float> values(64);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i + 1);
  const data::Image image = gray_image(8, 8, values);
  data::ImageTransform transform;
  transform.height = transform.width = 8;
  transform.horizontal_flip = true;
  transform.crop_padding = 2;
  transform.seed = 11;
  const auto run = [&](std::int64_t epoch, std::int64_t index) {
    std::vector<float> out(3 * 64);
    data::transform_image(image, transform, data::AugmentationKey{epoch, index}, out.data());
    return out;
  };
  CHECK(run(0, 5) == run(0, 5));
  std::set<std::vector<float>> variants;
  bool padded = false;
  for (std::int64_t index = 0; index < 40; ++index) {
    const std::vector<float> out = run(0, index);
    variants.insert(out);
    for (const float value : out) padded = padded || value == 0.0f;  // a zero can only come from the padding
  }
  CHECK(variants.size() > 10);
  CHECK(padded);
  const std::vector<float> seed_11 = run(0, 5);
  CHECK(run(1, 5) != seed_11);
  transform.seed = 12;
  CHECK(run(0, 5) != seed_11);
  // Without augmentation the transform is the plain resize.
  std::vector<float> plain(3 * 64);
  data::transform_image(image, transform, std::nullopt, plain.data());
  CHECK(std::vector<float>(plain.begin(), plain.begin() + 64) == values);
}

TEST_CASE("images: the random square offset covers the long side", "[images]") {
  const data::Image wide = gray_image(1, 4, {0, 1, 2, 3});
  data::ImageTransform transform;
  transform.height = transform.width = 1;
  transform.square_crop = true;
  transform.random_square_offset = true;
  std::set<float> seen;
  for (std::int64_t index = 0; index < 64; ++index) {
    float out[3];
    data::transform_image(wide, transform, data::AugmentationKey{0, index}, out);
    seen.insert(out[0]);
  }
  CHECK(seen == std::set<float>{0, 1, 2, 3});
}
