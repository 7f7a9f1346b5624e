#include "kiln/data/segmentation_set.h"

#include <zlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "kiln/data/idx.h"
#include "tests/data/image_files.h"
#include "tests/tools/run_kiln.h"
#include "tools/commands.h"

using namespace kiln;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> relative_paths(const data::SegmentationSet& set, const fs::path& root) {
  std::vector<std::string> paths;
  for (const data::SegmentationItem& item : set.items) {
    paths.push_back(fs::relative(item.image, root).generic_string() + " | " +
                    fs::relative(item.mask, root).generic_string());
  }
  return paths;
}

test::Pixels gray(int width, int height, std::vector<std::uint8_t> values) {
  return {width, height, 1, std::move(values)};
}

test::Pixels rgb(int width, int height, const std::vector<std::array<std::uint8_t, 3>>& colours) {
  test::Pixels pixels{width, height, 3, {}};
  for (const auto& colour : colours) pixels.bytes.insert(pixels.bytes.end(), colour.begin(), colour.end());
  return pixels;
}

void append_chunk(std::string& png, const std::string& type, const std::string& data) {
  const auto size = static_cast<std::uint32_t>(data.size());
  for (int shift = 24; shift >= 0; shift -= 8) png += static_cast<char>((size >> shift) & 0xFF);
  const std::string body = type + data;
  png += body;
  const auto crc = static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
  for (int shift = 24; shift >= 0; shift -= 8) png += static_cast<char>((crc >> shift) & 0xFF);
}

// A PNG stb_image_write cannot make: `colour_type` 3 (palette, 8-bit indices) or 0 (gray) at `bit_depth`; `rows`
// holds each row's sample bytes without the filter byte.
void write_raw_png(const fs::path& path, int width, int height, int colour_type, int bit_depth,
                   const std::string& rows, const std::string& palette = "") {
  std::string header;
  for (const int side : {width, height}) {
    for (int shift = 24; shift >= 0; shift -= 8) header += static_cast<char>((side >> shift) & 0xFF);
  }
  header += {static_cast<char>(bit_depth), static_cast<char>(colour_type), 0, 0, 0};
  std::string filtered;
  const std::size_t row_bytes = rows.size() / static_cast<std::size_t>(height);
  for (std::size_t row = 0; row < static_cast<std::size_t>(height); ++row) {
    filtered += '\0';
    filtered += rows.substr(row * row_bytes, row_bytes);
  }
  std::string compressed(compressBound(static_cast<uLong>(filtered.size())), '\0');
  uLongf compressed_size = compressed.size();
  REQUIRE(compress(reinterpret_cast<Bytef*>(compressed.data()), &compressed_size,
                   reinterpret_cast<const Bytef*>(filtered.data()), static_cast<uLong>(filtered.size())) == Z_OK);
  compressed.resize(compressed_size);
  std::string png = "\x89PNG\r\n\x1a\n";
  append_chunk(png, "IHDR", header);
  if (!palette.empty()) append_chunk(png, "PLTE", palette);
  append_chunk(png, "IDAT", compressed);
  append_chunk(png, "IEND", "");
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << png;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("segmentation data: a folder pairs images with masks by path and name and records the rest",
          "[segmentation data]") {
  test::TemporaryFolder root("segmentation_listing");
  test::write_png(root / "images/a.png", test::pattern(4, 3, 3, 1));
  test::write_jpeg(root / "images/sub/b.jpg", test::pattern(4, 3, 3, 2));
  test::write_bmp(root / "images/c.bmp", test::pattern(4, 3, 3, 3));    // no mask
  test::write_png(root / "images/sub/b.png", test::pattern(4, 3, 3, 4));  // b.jpg already has the name
  test::write_text(root / "images/notes.txt", "not an image");
  test::write_png(root / "masks/a.png", gray(4, 3, std::vector<std::uint8_t>(12, 0)));
  test::write_png(root / "masks/sub/b.png", gray(4, 3, std::vector<std::uint8_t>(12, 1)));
  test::write_png(root / "masks/orphan.png", gray(4, 3, std::vector<std::uint8_t>(12, 0)));  // no image
  test::write_jpeg(root / "masks/c.jpg", test::pattern(4, 3, 3, 5));  // masks are PNG only

  const data::SegmentationSet set = data::list_segmentation_folder(root.path().string());
  CHECK(relative_paths(set, root.path()) ==
        std::vector<std::string>{"images/a.png | masks/a.png", "images/sub/b.jpg | masks/sub/b.png"});
  CHECK(set.classes.empty());
  std::vector<std::string> skipped;
  for (const data::SkippedFile& file : set.skipped) {
    skipped.push_back(fs::relative(file.path, root.path()).generic_string() + ": " + file.reason);
  }
  std::sort(skipped.begin(), skipped.end());
  REQUIRE(skipped.size() == 5);
  CHECK_THAT(skipped[0], Contains("images/c.bmp: no mask") && Contains("masks/c.png"));
  CHECK_THAT(skipped[1], Contains("images/notes.txt: not a .jpg"));
  CHECK_THAT(skipped[2], Contains("images/sub/b.png: another image has the same name") && Contains("b.jpg"));
  CHECK_THAT(skipped[3], Contains("masks/c.jpg: a mask must be a .png file"));
  CHECK_THAT(skipped[4], Contains("masks/orphan.png: no image of this name"));
}

TEST_CASE("segmentation data: listing errors name the folder", "[segmentation data]") {
  test::TemporaryFolder root("segmentation_listing_errors");
  CHECK_THROWS_WITH(data::list_segmentation_folder((root / "absent").string()),
                    Contains("absent: no such folder") && Contains("images/ and masks/"));
  test::write_png(root / "images/a.png", test::pattern(4, 3, 3, 1));
  CHECK_THROWS_WITH(data::list_segmentation_folder(root.path().string()),
                    Contains((root / "masks").string() + ": no such folder"));
  test::write_png(root / "masks/b.png", gray(4, 3, std::vector<std::uint8_t>(12, 0)));
  CHECK_THROWS_WITH(data::list_segmentation_folder(root.path().string()),
                    Contains("no image in images/ has a mask in masks/ (1 images, 1 masks"));
}

TEST_CASE("segmentation data: classes.json names classes and colours; its errors name the entry and the field",
          "[segmentation data]") {
  const data::ClassList classes = data::parse_class_list(
      R"([{"name": "background", "color": [0, 0, 0]}, {"name": "car \"red\"", "color": [255, 0, 10]}])", "c.json");
  REQUIRE(classes.size() == 2);
  CHECK(classes[1].name == "car \"red\"");
  CHECK(classes[1].color == std::array<std::uint8_t, 3>{255, 0, 10});
  const data::ClassList round_trip = data::parse_class_list(data::format_class_list(classes), "again");
  REQUIRE(round_trip.size() == 2);
  CHECK((round_trip[1].name == classes[1].name && round_trip[1].color == classes[1].color));

  const auto fails = [](const std::string& text, const std::string& expected) {
    CHECK_THROWS_WITH(data::parse_class_list(text, "c.json"), Contains("c.json") && Contains(expected));
  };
  fails("[{\"name\": ", "not valid JSON");
  fails(R"({"name": "a", "color": [0, 0, 0]})", "expected a non-empty JSON array");
  fails("[]", "expected a non-empty JSON array");
  fails(R"([{"name": "a", "color": [0, 0, 0]}, 7])", "entry 1: expected an object");
  fails(R"([{"color": [0, 0, 0]}])", "entry 0: \"name\" must be a non-empty string");
  fails(R"([{"name": "a", "color": [0, 0, 0]}, {"name": "b", "color": [1, 2]}])",
        "entry 1 (\"b\"): \"color\" must be [r, g, b] with integers 0..255");
  fails(R"([{"name": "a", "color": [0, 256, 0]}])", "entry 0 (\"a\"): \"color\" must be");
  fails(R"([{"name": "a", "colour": [0, 0, 0]}])", "entry 0 (\"a\"): \"color\" must be");
  fails(R"([{"name": "a", "color": [0, 0, 0]}, {"name": "a", "color": [1, 1, 1]}])",
        "entry 1: name \"a\" repeats entry 0");
  fails(R"([{"name": "a", "color": [0, 0, 0]}, {"name": "b", "color": [0, 0, 0]}])",
        "entry 1 (\"b\"): color (0, 0, 0) repeats entry 0 (\"a\")");

  test::TemporaryFolder root("segmentation_classes");
  test::write_png(root / "images/a.png", test::pattern(2, 2, 3, 1));
  test::write_png(root / "masks/a.png", gray(2, 2, {0, 1, 1, 0}));
  test::write_text(root / "classes.json", R"([{"name": "sky", "color": [0, 0, 255]}, {"name": "x"}])");
  CHECK_THROWS_WITH(data::list_segmentation_folder(root.path().string()),
                    Contains((root / "classes.json").string() + ": entry 1 (\"x\"): \"color\""));
  test::write_text(root / "classes.json", data::format_class_list(data::cmp_facade_classes()));
  CHECK(data::list_segmentation_folder(root.path().string()).classes.size() == 5);
}

TEST_CASE("segmentation data: index masks hold class indices, 255 marking ignored pixels", "[segmentation data]") {
  test::TemporaryFolder root("segmentation_index_masks");
  const std::string path = (root / "mask.png").string();
  test::write_png(path, gray(3, 2, {0, 1, 2, 255, 2, 0}));
  const data::Mask mask = data::decode_mask(path, {}, -1);
  CHECK((mask.height == 2 && mask.width == 3));
  CHECK(mask.labels == std::vector<std::int32_t>{0, 1, 2, -1, 2, 0});
  CHECK(data::decode_mask(path, {}).labels == std::vector<std::int32_t>{0, 1, 2, 255, 2, 0});
  CHECK(data::decode_mask(path, data::ClassList(3)).labels[2] == 2);
  CHECK_THROWS_WITH(data::decode_mask(path, data::ClassList(2)),
                    Contains(path + ": pixel (x 2, y 0) has class index 2, but the class list has 2 classes"));

  const std::string deep = (root / "deep.png").string();
  write_raw_png(deep, 2, 1, 0, 16, std::string("\0\1\0\2", 4));
  CHECK_THROWS_WITH(data::decode_mask(deep, {}), Contains(deep + ": 16-bit samples"));
}

TEST_CASE("segmentation data: colour masks map through the class list, CMP facade palette included",
          "[segmentation data]") {
  const data::ClassList facade = data::cmp_facade_classes();
  REQUIRE(facade.size() == 5);
  CHECK(facade[1].name == "facade");
  CHECK(facade[1].color == std::array<std::uint8_t, 3>{0x00, 0x80, 0xFF});
  CHECK(facade[2].color == std::array<std::uint8_t, 3>{0x80, 0xFF, 0x80});
  CHECK(facade[3].color == std::array<std::uint8_t, 3>{0xFF, 0x80, 0x00});
  CHECK(facade[4].color == std::array<std::uint8_t, 3>{0xFF, 0x00, 0x00});

  test::TemporaryFolder root("segmentation_colour_masks");
  const std::string path = (root / "rgb.png").string();
  test::write_png(path, rgb(3, 2, {{0, 0, 0}, {0, 128, 255}, {128, 255, 128}, {255, 128, 0}, {255, 0, 0},
                                   {255, 255, 255}}));
  CHECK(data::decode_mask(path, facade).labels == std::vector<std::int32_t>{0, 1, 2, 3, 4, 255});
  CHECK(data::decode_mask(path, facade, -1).labels[5] == -1);

  // CMP's labels are palette PNGs: their indices come back as the palette's colours.
  const std::string palette_path = (root / "palette.png").string();
  std::string palette;
  for (const data::SegmentationClass& entry : facade) palette.append(entry.color.begin(), entry.color.end());
  write_raw_png(palette_path, 5, 1, 3, 8, std::string("\4\3\2\1\0", 5), palette);
  CHECK(data::decode_mask(palette_path, facade).labels == std::vector<std::int32_t>{4, 3, 2, 1, 0});

  // White is a class when the list says so.
  data::ClassList with_white = facade;
  with_white.push_back({"white", {255, 255, 255}});
  CHECK(data::decode_mask(path, with_white).labels[5] == 5);

  const std::string stray = (root / "stray.png").string();
  test::write_png(stray, rgb(2, 2, {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {1, 2, 3}}));
  CHECK_THROWS_WITH(data::decode_mask(stray, facade),
                    Contains(stray + ": pixel (x 1, y 1) has colour (1, 2, 3), which no class in the class list has"));
  CHECK_THROWS_WITH(data::decode_mask(path, {}), Contains(path + ": a colour mask needs a class list"));
}

TEST_CASE("segmentation data: a mask whose size differs from its image is an error naming both files",
          "[segmentation data]") {
  test::TemporaryFolder root("segmentation_sizes");
  const data::SegmentationItem item{(root / "images/a.png").string(), (root / "masks/a.png").string()};
  test::write_png(item.image, test::pattern(4, 3, 3, 1));
  test::write_png(item.mask, gray(4, 3, std::vector<std::uint8_t>(12, 1)));
  const data::SegmentationSample sample = data::read_segmentation_item(item, {});
  CHECK((sample.image.height == 3 && sample.image.width == 4 && sample.mask.labels.size() == 12));
  test::write_png(item.mask, gray(3, 4, std::vector<std::uint8_t>(12, 1)));
  CHECK_THROWS_WITH(data::read_segmentation_item(item, {}),
                    Contains(item.mask + ": the mask is 4x3 (height x width) but its image " + item.image +
                             " is 3x4"));
}

TEST_CASE("segmentation data: nearest resize copies the label under each output pixel's centre",
          "[segmentation data]") {
  const data::Mask mask{2, 3, {0, 1, 2, 3, 4, 5}};
  CHECK(data::resize_mask_nearest(mask, 4, 6).labels ==
        std::vector<std::int32_t>{0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 3, 3, 4, 4, 5, 5});
  const data::Mask square{4, 4, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}};
  CHECK(data::resize_mask_nearest(square, 2, 2).labels == std::vector<std::int32_t>{5, 7, 13, 15});
  // 3 -> 2 columns: centres at 0.75 and 2.25 fall in columns 0 and 2.
  const data::Mask resized = data::resize_mask_nearest(mask, 1, 2);
  CHECK((resized.height == 1 && resized.width == 2));
  CHECK(resized.labels == std::vector<std::int32_t>{3, 5});
  CHECK_THROWS_WITH(data::resize_mask_nearest(mask, 0, 2), Contains("must be positive"));
}

TEST_CASE("segmentation data: make-scenes writes a set that lists and decodes back, the same for the same seed",
          "[segmentation data]") {
  if (!fs::is_directory(data::fashion_mnist_default_folder)) {
    WARN("Fashion-MNIST is absent from " << data::fashion_mnist_default_folder
                                         << " (Debian package dataset-fashion-mnist); skipping make-scenes");
    return;
  }
  test::TemporaryFolder root("segmentation_make_scenes");
  const auto make = [&](const std::string& folder, const std::string& seed) {
    return test::run_kiln({tools::make_scenes_command()}, {"make-scenes", "--out", (root / folder).string(),
                                                           "--count", "4", "--size", "48", "--seed", seed});
  };
  const test::Run first = make("first", "3");
  INFO(first.output << first.errors);
  REQUIRE(first.exit_code == 0);
  CHECK_THAT(first.output, Contains("wrote 4 scenes of 48x48"));

  const data::SegmentationSet set = data::list_segmentation_folder((root / "first").string());
  REQUIRE(set.items.size() == 4);
  CHECK(set.skipped.empty());
  REQUIRE(set.classes.size() == 11);
  CHECK(set.classes[0].name == "background");
  CHECK(set.classes[10].name == "Ankle boot");
  std::set<std::int32_t> labels;
  for (const data::SegmentationItem& item : set.items) {
    const data::SegmentationSample sample = data::read_segmentation_item(item, set.classes);
    CHECK((sample.image.height == 48 && sample.image.width == 48));
    labels.insert(sample.mask.labels.begin(), sample.mask.labels.end());
  }
  CHECK(*labels.begin() == 0);  // background present
  CHECK(*labels.rbegin() <= 10);
  CHECK(labels.size() >= 2);  // some item

  REQUIRE(make("again", "3").exit_code == 0);
  REQUIRE(make("other", "4").exit_code == 0);
  bool all_same = true, any_different = false;
  for (const std::string kind : {"images", "masks"}) {
    for (const data::SegmentationItem& item : set.items) {
      const fs::path name = fs::path(item.image).filename();
      const std::string bytes = read_bytes(root / "first" / kind / name);
      all_same = all_same && bytes == read_bytes(root / "again" / kind / name);
      any_different = any_different || bytes != read_bytes(root / "other" / kind / name);
    }
  }
  CHECK(read_bytes(root / "first/classes.json") == read_bytes(root / "again/classes.json"));
  CHECK(all_same);
  CHECK(any_different);

  const test::Run refused = make("first", "3");
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.errors, Contains("exists and is not an empty folder"));
}
