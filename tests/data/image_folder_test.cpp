#include "kiln/data/image_folder.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "kiln/data/image_dataset.h"
#include "kiln/data/tiny_imagenet.h"
#include "tests/data/image_files.h"

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

std::vector<std::string> file_names(const data::ImageSet& set) {
  std::vector<std::string> names;
  for (const data::ImageItem& item : set.items) {
    names.push_back(std::filesystem::path(item.path).filename().string() + ":" + std::to_string(item.label));
  }
  return names;
}

}  // namespace

TEST_CASE("images: a class-per-subfolder tree lists sorted classes, files and labels", "[images]") {
  test::TemporaryFolder root("folder_listing");
  test::write_png(root / "dog/b.png", test::pattern(4, 4, 3, 1));
  test::write_jpeg(root / "dog/a.JPG", test::pattern(4, 4, 3, 2));
  test::write_png(root / "cat/nested/c.png", test::pattern(4, 4, 3, 3));
  test::write_bmp(root / "cat/d.bmp", test::pattern(4, 4, 3, 4));
  test::write_text(root / "cat/notes.txt", "not an image");
  test::write_text(root / "cat/.DS_Store", "hidden");
  test::write_png(root / ".cache/e.png", test::pattern(4, 4, 3, 5));

  const data::ImageSet set = data::list_image_folder(root.path().string());
  CHECK(set.classes == std::vector<std::string>{"cat", "dog"});
  CHECK(file_names(set) == std::vector<std::string>{"d.bmp:0", "c.png:0", "a.JPG:1", "b.png:1"});
  REQUIRE(set.skipped.size() == 1);
  CHECK_THAT(set.skipped[0].path, Contains("notes.txt"));
  CHECK(data::class_counts(set) == std::vector<std::int64_t>{2, 2});

  const data::ImageSet given = data::list_image_folder(root.path().string(), {"dog", "cat"});
  CHECK(file_names(given) == std::vector<std::string>{"a.JPG:0", "b.png:0", "d.bmp:1", "c.png:1"});
}

TEST_CASE("images: missing and empty folders are errors naming them", "[images]") {
  test::TemporaryFolder root("folder_errors");
  CHECK_THROWS_WITH(data::list_image_folder((root / "nowhere").string()),
                    Contains("nowhere") && Contains("no such folder"));
  CHECK_THROWS_WITH(data::list_image_folder(root.path().string()), Contains("no class subfolders"));
  test::write_png(root / "a/x.png", test::pattern(2, 2, 3, 0));
  test::write_text(root / "b/readme.txt", "no images here");
  CHECK_THROWS_WITH(data::list_image_folder(root.path().string()), Contains("/b") && Contains("no .jpg"));
  CHECK_THROWS_WITH(data::list_image_folder(root.path().string(), {"a", "c"}),
                    Contains("/c") && Contains("no such class folder"));
}

TEST_CASE("images: validation splits by fraction, stratified or not, seeded", "[images]") {
  data::ImageSet set;
  set.classes = {"a", "b"};
  for (int i = 0; i < 30; ++i) set.items.push_back({"img" + std::to_string(100 + i), i < 20 ? 0 : 1});
  const data::ImageSplit split = data::split_image_set(set, 0.2, 5);
  CHECK(data::class_counts(split.validation) == std::vector<std::int64_t>{4, 2});
  CHECK(data::class_counts(split.train) == std::vector<std::int64_t>{16, 8});
  CHECK(std::is_sorted(split.train.items.begin(), split.train.items.end(),
                       [](const auto& a, const auto& b) { return a.path < b.path; }));
  CHECK(file_names(data::split_image_set(set, 0.2, 5).validation) == file_names(split.validation));
  CHECK(file_names(data::split_image_set(set, 0.2, 6).validation) != file_names(split.validation));
  const data::ImageSplit overall = data::split_image_set(set, 0.5, 5, false);
  CHECK(overall.validation.items.size() == 15);
  CHECK_THROWS_WITH(data::split_image_set(set, 0.0, 5), Contains("0 for validation"));
}

TEST_CASE("images: the Tiny ImageNet layout", "[images]") {
  test::TemporaryFolder root("tiny_imagenet");
  test::write_text(root / "wnids.txt", "n02\nn01\n");
  test::write_text(root / "words.txt", "n00\tentity\nn01\tgoldfish, Carassius auratus\nn02\ttabby, tabby cat\n");
  for (const std::string wnid : {"n01", "n02"}) {
    for (int i = 0; i < 2; ++i) {
      test::write_jpeg(root / ("train/" + wnid + "/images/" + wnid + "_" + std::to_string(i) + ".JPEG"),
                       test::pattern(8, 8, 3, i));
    }
    test::write_text(root / ("train/" + wnid + "/" + wnid + "_boxes.txt"), "boxes");
  }
  test::write_jpeg(root / "val/images/val_0.JPEG", test::pattern(8, 8, 3, 9));
  test::write_jpeg(root / "val/images/val_1.JPEG", test::pattern(8, 8, 3, 8));
  test::write_jpeg(root / "val/images/val_2.JPEG", test::pattern(8, 8, 3, 7));
  test::write_text(root / "val/val_annotations.txt",
                   "val_1.JPEG\tn01\t0\t0\t7\t7\nval_0.JPEG\tn02\t1\t1\t6\t6\nval_9.JPEG\tn01\t0\t0\t1\t1\n");

  const data::TinyImageNet tiny = data::load_tiny_imagenet(root.path().string());
  CHECK(tiny.train.classes == std::vector<std::string>{"n01", "n02"});
  CHECK(tiny.descriptions == std::vector<std::string>{"goldfish, Carassius auratus", "tabby, tabby cat"});
  CHECK(file_names(tiny.train) ==
        std::vector<std::string>{"n01_0.JPEG:0", "n01_1.JPEG:0", "n02_0.JPEG:1", "n02_1.JPEG:1"});
  CHECK(tiny.train.skipped.empty());
  CHECK(file_names(tiny.validation) == std::vector<std::string>{"val_0.JPEG:1", "val_1.JPEG:0"});
  std::vector<std::string> skipped;
  for (const data::SkippedFile& file : tiny.validation.skipped) skipped.push_back(file.path + " " + file.reason);
  std::sort(skipped.begin(), skipped.end());
  REQUIRE(skipped.size() == 2);
  CHECK_THAT(skipped[0], Contains("val_2.JPEG") && Contains("no entry"));
  CHECK_THAT(skipped[1], Contains("val_9.JPEG") && Contains("missing"));

  test::write_text(root / "val/val_annotations.txt", "val_0.JPEG\tn07\t0\t0\t1\t1\n");
  CHECK_THROWS_WITH(data::load_tiny_imagenet(root.path().string()),
                    Contains("val_annotations.txt:1") && Contains("n07"));
  std::filesystem::remove(root / "wnids.txt");
  CHECK_THROWS_WITH(data::load_tiny_imagenet(root.path().string()), Contains("wnids.txt") && Contains("missing"));
}

TEST_CASE("images: corrupt and empty image files are skipped with a report naming them", "[images]") {
  test::TemporaryFolder root("skipped_files");
  test::write_png(root / "a/good.png", test::solid(4, 4, 255, 0, 0));
  test::write_text(root / "a/corrupt.png", "\x89PNG but then nothing sensible");
  test::write_text(root / "b/empty.jpg", "");
  test::write_jpeg(root / "b/good.jpg", test::solid(4, 4, 0, 0, 255));
  data::ImageTransform transform;
  transform.height = transform.width = 2;
  const data::ImageDataset dataset(data::list_image_folder(root.path().string()), transform);
  REQUIRE(dataset.size() == 4);
  std::vector<data::SkippedFile> skipped;
  const std::vector<std::int64_t> all{0, 1, 2, 3};
  const data::Batch batch = dataset.load_batch(all, std::nullopt, skipped);
  CHECK(batch.images.shape() == Shape{2, 3, 2, 2});
  CHECK(batch.labels.to_vector() == std::vector<float>{0, 1});
  REQUIRE(skipped.size() == 2);
  CHECK_THAT(skipped[0].path, Contains("corrupt.png"));
  CHECK_THAT(skipped[1].path, Contains("empty.jpg"));
  CHECK_THAT(skipped[1].reason, Contains("empty"));
  CHECK_THROWS_WITH(dataset.load_batch(all, std::nullopt, skipped, false), Contains("corrupt.png"));
}
