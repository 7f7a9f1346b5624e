#include "kiln/data/mask_image.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <limits>
#include <set>

#include "kiln/error.h"

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

using Colors = std::vector<std::uint8_t>;

const data::ClassList three_classes = {{"sky", {10, 20, 30}}, {"wall", {200, 100, 0}}, {"door", {0, 255, 1}}};

// A height x width image whose three planes are given one after the other, as data::Image holds them.
data::Image planes(std::int64_t height, std::int64_t width, std::vector<float> pixels) {
  return {height, width, std::move(pixels)};
}

}  // namespace

TEST_CASE("mask image: colorize_mask paints each class's colour and the ignore colour", "[mask_image]") {
  const data::Mask mask{2, 3, {0, 1, 2, 255, 1, 0}};
  const data::ImageBytes image = data::colorize_mask(mask, three_classes);
  CHECK(image.height == 2);
  CHECK(image.width == 3);
  CHECK(image.channels == 3);
  CHECK(image.samples == Colors{10, 20, 30, 200, 100, 0, 0, 255, 1, 255, 255, 255, 200, 100, 0, 10, 20, 30});

  // Another ignore label and colour; 255 is then an unknown label.
  const data::Mask other_ignore{1, 2, {-1, 2}};
  CHECK(data::colorize_mask(other_ignore, three_classes, {7, 8, 9}, -1).samples == Colors{7, 8, 9, 0, 255, 1});
  CHECK_THROWS_WITH(data::colorize_mask(mask, three_classes, {7, 8, 9}, -1),
                    Contains("pixel (x 0, y 1)") && Contains("label 255") && Contains("3 classes"));
}

TEST_CASE("mask image: colorize_mask names the pixel of a label outside the class list", "[mask_image]") {
  CHECK_THROWS_WITH(data::colorize_mask({2, 2, {0, 1, 2, 3}}, three_classes),
                    Contains("pixel (x 1, y 1) has label 3") && Contains("ignore label 255"));
  CHECK_THROWS_WITH(data::colorize_mask({1, 3, {0, -2, 0}}, three_classes), Contains("pixel (x 1, y 0) has label -2"));
  CHECK_THROWS_WITH(data::colorize_mask({2, 2, {0, 1, 2}}, three_classes), Contains("2x2 mask with 3 labels"));
}

TEST_CASE("mask image: to_image_bytes interleaves the planes, rounds and clamps", "[mask_image]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Red plane, green plane, blue plane of a 1x3 image.
  const data::Image image = planes(1, 3, {0.0f, 1.0f, 0.5f, 0.2f, -0.1f, 1.5f, nan, 0.001f, 0.998f});
  const data::ImageBytes bytes = data::to_image_bytes(image);
  CHECK(bytes.height == 1);
  CHECK(bytes.width == 3);
  CHECK(bytes.channels == 3);
  // 0.5 * 255 = 127.5 rounds up; 0.2 -> 51; 0.001 -> 0.255 -> 0; 0.998 -> 254.49 -> 254; NaN -> 0.
  CHECK(bytes.samples == Colors{0, 51, 0, 255, 0, 0, 128, 255, 254});
  CHECK_THROWS_WITH(data::to_image_bytes(planes(2, 2, {0.0f, 0.0f})), Contains("to_image_bytes") &&
                                                                        Contains("2x2 image needs 12 samples"));
}

TEST_CASE("mask image: overlay_mask blends the colours over the image with weight alpha", "[mask_image]") {
  // Four pixels: white, black, mid-grey, and out-of-range values that clamp to 255 and 0.
  const data::Image image = planes(2, 2, {1.0f, 0.0f, 0.5f, 2.0f,  1.0f, 0.0f, 0.5f, -1.0f,  1.0f, 0.0f, 0.5f, 2.0f});
  const data::ImageBytes colors{2, 2, 3, {0, 0, 0,  255, 1, 3,  10, 20, 30,  0, 0, 0}};

  // alpha 0.25: 0.75 * 255 = 191.25 -> 191; 0.25 * 255 = 63.75 -> 64; 0.25 * 1 = 0.25 -> 0; 0.25 * 3 = 0.75 -> 1;
  // 0.75 * 127.5 + 0.25 * 10 = 98.125 -> 98, + 0.25 * 20 -> 100.625 -> 101, + 0.25 * 30 -> 103.125 -> 103.
  CHECK(data::overlay_mask(image, colors, 0.25f).samples ==
        Colors{191, 191, 191, 64, 0, 1, 98, 101, 103, 191, 0, 191});
  // alpha 0.5 (the default): halves round away from zero (0.5 * 1 -> 1, 0.5 * 3 = 1.5 -> 2, 127.5 -> 128).
  CHECK(data::overlay_mask(image, colors).samples ==
        Colors{128, 128, 128, 128, 1, 2, 69, 74, 79, 128, 0, 128});
  // The ends: the image itself, the colours themselves.
  CHECK(data::overlay_mask(image, colors, 0.0f).samples == data::to_image_bytes(image).samples);
  CHECK(data::overlay_mask(image, colors, 1.0f).samples == colors.samples);
}

TEST_CASE("mask image: overlay_mask refuses other sizes, other channel counts and alpha outside [0, 1]",
          "[mask_image]") {
  const data::Image image = planes(2, 3, std::vector<float>(18, 0.5f));
  CHECK_THROWS_WITH(data::overlay_mask(image, {3, 2, 3, Colors(18, 0)}),
                    Contains("colours are 3x2x3 for a 2x3 image (expected 2x3x3)"));
  CHECK_THROWS_WITH(data::overlay_mask(image, {2, 3, 1, Colors(6, 0)}), Contains("2x3x1 for a 2x3 image"));
  CHECK_THROWS_WITH(data::overlay_mask(image, {2, 3, 3, Colors(18, 0)}, 1.5f), Contains("alpha 1.5 is outside"));
  CHECK_THROWS_WITH(data::overlay_mask(planes(2, 3, {}), {2, 3, 3, Colors(18, 0)}), Contains("overlay_mask"));
}

TEST_CASE("mask image: default_class_colors is CMP facade's for 5 classes, else the PASCAL VOC colour map",
          "[mask_image]") {
  std::vector<std::array<std::uint8_t, 3>> facade;
  for (const data::SegmentationClass& facade_class : data::cmp_facade_classes()) facade.push_back(facade_class.color);
  CHECK(data::default_class_colors(5) == facade);

  using Rgb = std::array<std::uint8_t, 3>;
  CHECK(data::default_class_colors(4) == std::vector<Rgb>{{0, 0, 0}, {128, 0, 0}, {0, 128, 0}, {128, 128, 0}});
  const std::vector<Rgb> voc = data::default_class_colors(300);
  CHECK(voc[8] == Rgb{64, 0, 0});        // index 8: its fourth bit is red's second-highest
  CHECK(voc[15] == Rgb{192, 128, 128});  // VOC's person
  CHECK(voc[255] == Rgb{224, 224, 192});  // the colour VOC gives its ignore label 255
  CHECK(std::set<Rgb>(voc.begin(), voc.end()).size() == voc.size());
  CHECK(std::count(voc.begin(), voc.end(), Rgb{255, 255, 255}) == 0);
  CHECK(data::default_class_colors(0).empty());
  CHECK_THROWS_WITH(data::default_class_colors(std::size_t{1} << 24), Contains("16777216 classes"));
}

TEST_CASE("mask image: class_list pairs names with colours, the default palette when none are recorded",
          "[mask_image]") {
  const data::ClassList given = data::class_list({"sky", "wall"}, {{1, 2, 3}, {4, 5, 6}});
  REQUIRE(given.size() == 2);
  CHECK(given[1].name == "wall");
  CHECK(given[1].color == std::array<std::uint8_t, 3>{4, 5, 6});
  const data::ClassList defaulted = data::class_list({"a", "b", "c"}, {});
  REQUIRE(defaulted.size() == 3);
  CHECK(defaulted[2].color == data::default_class_colors(3)[2]);
  CHECK_THROWS_WITH(data::class_list({"a", "b"}, {{1, 2, 3}}), Contains("2 class names but 1 colours"));
}

TEST_CASE("mask image: predicted_masks takes each pixel's best class, the lower index on ties", "[mask_image]") {
  // Two images of 1x3 pixels, three classes: planes class 0, 1, 2 per image.
  const Tensor scores = Tensor::from_vector(std::vector<float>{0, 5, 1, /**/ 1, 5, 0, /**/ -1, 2, 7,  //
                                             3, 3, 3, /**/ 3, 4, 2, /**/ 3, 1, 9},
                                            {2, 3, 1, 3});
  const std::vector<data::Mask> masks = data::predicted_masks(scores);
  REQUIRE(masks.size() == 2);
  CHECK(masks[0].height == 1);
  CHECK(masks[0].width == 3);
  CHECK(masks[0].labels == std::vector<std::int32_t>{1, 0, 2});
  CHECK(masks[1].labels == std::vector<std::int32_t>{0, 1, 2});
  CHECK_THROWS_WITH(data::predicted_masks(Tensor::zeros({2, 3})), Contains("[2, 3]"));
}
