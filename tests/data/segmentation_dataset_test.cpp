#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <vector>

#include "kiln/data/async_reader.h"
#include "kiln/data/segmentation_dataset.h"
#include "tests/data/image_files.h"

using namespace kiln;

namespace {

constexpr std::int32_t ignored = 255;

// A 12x12 pair: the image is black (label 0) with a 6x6 square of pure red (label 1) at rows 2-7, columns 4-9, and
// a stripe of the ignore label in the mask's last column.
struct Pair {
  data::Image image;
  data::Mask mask;
};

Pair square_pair() {
  Pair pair{{12, 12, std::vector<float>(3 * 144, 0.0f)}, {12, 12, std::vector<std::int32_t>(144, 0)}};
  for (int y = 2; y < 8; ++y) {
    for (int x = 4; x < 10; ++x) {
      pair.image.pixels[static_cast<std::size_t>(y * 12 + x)] = 1.0f;
      pair.mask.labels[static_cast<std::size_t>(y * 12 + x)] = 1;
    }
  }
  for (int y = 0; y < 12; ++y) pair.mask.labels[static_cast<std::size_t>(y * 12 + 11)] = ignored;
  return pair;
}

data::SegmentationTransform transform_of(std::int64_t size) {
  data::SegmentationTransform transform;
  transform.height = transform.width = size;
  transform.seed = 9;
  return transform;
}

}  // namespace

TEST_CASE("segmentation dataset: unaugmented, a pair is resized to the row size, the mask by nearest neighbour",
          "[segmentation data]") {
  const Pair pair = square_pair();
  data::ImageScratch scratch;
  std::vector<float> image(3 * 6 * 6);
  std::vector<std::int32_t> mask(6 * 6);
  data::transform_pair(pair.image, pair.mask, transform_of(6), std::nullopt, image.data(), mask.data(), scratch);
  // Output pixel (y, x) takes input pixel (2y + 1, 2x + 1): the square covers rows 1-3 and columns 2-4; column 5
  // reads the ignored stripe.
  for (int y = 0; y < 6; ++y) {
    for (int x = 0; x < 6; ++x) {
      const std::int32_t expected = x == 5 ? ignored : (y >= 1 && y <= 3 && x >= 2 && x <= 4) ? 1 : 0;
      INFO("pixel " << y << ", " << x);
      CHECK(mask[static_cast<std::size_t>(y * 6 + x)] == expected);
    }
  }
  // Area averaging of the image: fully inside the square is red, fully outside black.
  CHECK(image[2 * 6 + 3] == 1.0f);
  CHECK(image[0] == 0.0f);
}

TEST_CASE("segmentation dataset: augmentation moves image and mask together and is the same for the same draws",
          "[segmentation data]") {
  const Pair pair = square_pair();
  data::SegmentationTransform transform = transform_of(12);
  transform.min_scale = 0.5;
  transform.max_scale = 2.0;
  transform.horizontal_flip = true;
  data::ImageScratch scratch;
  std::set<std::vector<std::int32_t>> distinct;
  bool padded = false;
  for (std::int64_t epoch = 0; epoch < 12; ++epoch) {
    std::vector<float> image(3 * 144), again(3 * 144);
    std::vector<std::int32_t> mask(144), mask_again(144);
    const data::AugmentationKey key{epoch, 3};
    data::transform_pair(pair.image, pair.mask, transform, key, image.data(), mask.data(), scratch);
    data::transform_pair(pair.image, pair.mask, transform, key, again.data(), mask_again.data(), scratch);
    CHECK(image == again);
    CHECK(mask == mask_again);
    distinct.insert(mask);
    // Where the mask says "square" and its neighbours agree, the image is red; where it says background, black. A
    // pixel the window padded is ignored in the mask and 0 in the image.
    for (int y = 1; y < 11; ++y) {
      for (int x = 1; x < 11; ++x) {
        const std::int32_t label = mask[static_cast<std::size_t>(y * 12 + x)];
        bool uniform = true;
        for (int dy = -1; dy <= 1; ++dy) {
          for (int dx = -1; dx <= 1; ++dx)
            uniform = uniform && mask[static_cast<std::size_t>((y + dy) * 12 + x + dx)] == label;
        }
        if (!uniform || label == ignored) continue;
        INFO("epoch " << epoch << " pixel " << y << ", " << x);
        CHECK(image[static_cast<std::size_t>(y * 12 + x)] == Approx(label == 1 ? 1.0 : 0.0).margin(1e-5));
        CHECK(image[static_cast<std::size_t>(144 + y * 12 + x)] == Approx(0.0).margin(1e-5));  // green
      }
    }
    for (std::size_t p = 0; p < 144; ++p) {
      if (mask[p] == ignored && image[p] == 0.0f && p % 12 != 11) padded = true;
    }
  }
  CHECK(distinct.size() > 6);  // the draws differ from epoch to epoch
  CHECK(padded);               // some scales below 1 left padding around the pair
}

TEST_CASE("segmentation dataset: the reader batches images [N, 3, H, W] with masks [N, H, W] and skips bad pairs",
          "[segmentation data]") {
  const test::TemporaryFolder root("kiln-segmentation-dataset");
  test::write_png(root / "images/a.png", test::solid(8, 6, 200, 10, 10));
  test::write_png(root / "images/b.png", test::solid(8, 6, 10, 10, 10));
  test::write_png(root / "images/c.png", test::solid(8, 6, 10, 10, 10));
  test::Pixels labels{8, 6, 1, std::vector<std::uint8_t>(48, 1)};
  test::write_png(root / "masks/a.png", labels);
  test::write_png(root / "masks/b.png", labels);
  test::write_png(root / "masks/c.png", test::Pixels{4, 4, 1, std::vector<std::uint8_t>(16, 1)});  // wrong size
  test::write_text(root / "classes.json",
                   R"([{"name": "sky", "color": [0, 0, 0]}, {"name": "wall", "color": [9, 9, 9]}])");
  data::SegmentationSet set = data::list_segmentation_folder(root.path().string());
  REQUIRE(set.items.size() == 3);
  auto dataset = std::make_shared<const data::SegmentationDataset>(std::move(set), transform_of(4));
  CHECK(dataset->classes() == std::vector<std::string>{"sky", "wall"});
  data::ReaderOptions options;
  options.threads = 2;
  options.on_skipped = [](const data::SkippedFile&) {};
  data::AsyncImageReader reader(dataset, options);
  reader.start_epoch({data::sequential_order(3), 3, std::nullopt});
  const std::optional<data::Batch> batch = reader.next();
  REQUIRE(batch.has_value());
  CHECK(batch->images.shape() == Shape{2, 3, 4, 4});
  CHECK(batch->labels.shape() == Shape{2, 4, 4});
  CHECK(batch->labels.to_vector() == std::vector<float>(32, 1.0f));
  CHECK_FALSE(reader.next().has_value());
  REQUIRE(reader.skipped().size() == 1);
  CHECK(reader.skipped()[0].path.ends_with("c.png"));
  CHECK_THAT(reader.skipped()[0].reason, Catch::Contains("masks/c.png") && Catch::Contains("4x4"));
}

TEST_CASE("segmentation dataset: a set without classes.json or a bad transform is refused", "[segmentation data]") {
  data::SegmentationSet set;
  set.items.push_back({"a.png", "a.png"});
  CHECK_THROWS_WITH(data::SegmentationDataset(set, transform_of(4)), Catch::Contains("classes.json"));
  set.classes = {{"a", {0, 0, 0}}};
  CHECK_THROWS_WITH(data::SegmentationDataset(set, transform_of(0)), Catch::Contains("row size must be positive"));
  data::SegmentationTransform scales = transform_of(4);
  scales.min_scale = 2;
  scales.max_scale = 1;
  CHECK_THROWS_WITH(data::SegmentationDataset(set, scales), Catch::Contains("scale range [2, 1]"));
}
