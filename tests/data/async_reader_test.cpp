#include "kiln/data/async_reader.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>

#include "kiln/data/image_dataset.h"
#include "tests/data/image_files.h"

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

// Three classes of varied 10x7 images (PNG and JPEG), read at 6x6 with every augmentation on.
std::shared_ptr<const data::ImageDataset> augmented_dataset(const test::TemporaryFolder& root, int per_class) {
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < per_class; ++i) {
      std::ostringstream stem;  // not string concatenation: GCC 12 warns falsely (-Wrestrict) when it is inlined
      stem << "c" << c << "/" << i;
      if (i % 2 == 0)
        test::write_png(root / (stem.str() + ".png"), test::pattern(10, 7, 3, c * 100 + i));
      else
        test::write_jpeg(root / (stem.str() + ".jpg"), test::pattern(10, 7, 3, c * 100 + i));
    }
  }
  data::ImageTransform transform;
  transform.height = transform.width = 6;
  transform.square_crop = transform.random_square_offset = transform.horizontal_flip = true;
  transform.crop_padding = 1;
  transform.normalization = data::normalization_preset("[-1,1]");
  transform.seed = 3;
  return std::make_shared<data::ImageDataset>(data::list_image_folder(root.path().string()), transform);
}

std::vector<data::Batch> read_epoch(data::AsyncImageReader& reader, data::EpochPlan plan) {
  reader.start_epoch(std::move(plan));
  std::vector<data::Batch> batches;
  while (std::optional<data::Batch> batch = reader.next()) batches.push_back(*batch);
  return batches;
}

std::vector<data::Batch> read_synchronously(const data::ImageDataset& dataset, const data::EpochPlan& plan) {
  std::vector<data::Batch> batches;
  std::vector<data::SkippedFile> skipped;
  for (std::size_t first = 0; first < plan.order.size(); first += static_cast<std::size_t>(plan.batch_size)) {
    const std::size_t count = std::min(plan.order.size() - first, static_cast<std::size_t>(plan.batch_size));
    batches.push_back(dataset.load_batch({plan.order.data() + first, count}, plan.augment_epoch, skipped));
  }
  return batches;
}

void check_same(const std::vector<data::Batch>& actual, const std::vector<data::Batch>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t b = 0; b < actual.size(); ++b) {
    CHECK(actual[b].images.shape() == expected[b].images.shape());
    CHECK(actual[b].images.to_vector() == expected[b].images.to_vector());
    CHECK(actual[b].labels.to_vector() == expected[b].labels.to_vector());
  }
}

data::ReaderOptions quiet(int threads, int prefetch = 0) {
  data::ReaderOptions options;
  options.threads = threads;
  options.prefetch = prefetch;
  options.on_skipped = [](const data::SkippedFile&) {};
  return options;
}

}  // namespace

TEST_CASE("images: the async reader gives the synchronous batches, with 1 and several threads", "[images]") {
  test::TemporaryFolder root("reader_same");
  const auto dataset = augmented_dataset(root, 7);
  REQUIRE(dataset->size() == 21);
  const data::EpochPlan train_epoch{data::shuffled_order(21, 9, 2), 4, 2};
  const data::EpochPlan evaluation{data::sequential_order(21), 5, std::nullopt};
  const auto expected_train = read_synchronously(*dataset, train_epoch);
  const auto expected_evaluation = read_synchronously(*dataset, evaluation);
  CHECK(expected_train.size() == 6);
  CHECK(expected_train.back().labels.size(0) == 1);
  for (const int threads : {1, 3}) {
    data::AsyncImageReader reader(dataset, quiet(threads, threads == 1 ? 1 : 0));
    check_same(read_epoch(reader, train_epoch), expected_train);
    check_same(read_epoch(reader, evaluation), expected_evaluation);  // another batch size, no augmentation
    check_same(read_epoch(reader, train_epoch), expected_train);
    CHECK(reader.skipped().empty());
  }
  // Augmentation differs between epochs and orders differ between epochs.
  CHECK(data::shuffled_order(21, 9, 2) != data::shuffled_order(21, 9, 3));
  const data::EpochPlan next_epoch{train_epoch.order, 4, 3};
  CHECK(read_synchronously(*dataset, next_epoch)[0].images.to_vector() != expected_train[0].images.to_vector());
}

TEST_CASE("images: batch memory is reused once the consumer lets go of a batch", "[images]") {
  test::TemporaryFolder root("reader_reuse");
  const auto dataset = augmented_dataset(root, 4);
  data::AsyncImageReader reader(dataset, quiet(2));
  reader.start_epoch({data::sequential_order(12), 2, std::nullopt});
  const void* first = nullptr;
  bool reused = false;
  while (std::optional<data::Batch> batch = reader.next()) {
    if (first == nullptr)
      first = batch->images.raw_data();
    else
      reused = reused || batch->images.raw_data() == first;
  }
  CHECK(reused);
}

TEST_CASE("images: stopping or destroying the reader mid-epoch does not hang", "[images]") {
  test::TemporaryFolder root("reader_stop");
  const auto dataset = augmented_dataset(root, 10);
  const data::EpochPlan plan{data::shuffled_order(30, 1, 0), 2, 0};
  {
    data::AsyncImageReader reader(dataset, quiet(3, 2));
    reader.start_epoch(plan);
    REQUIRE(reader.next().has_value());
    reader.stop();
    CHECK_FALSE(reader.next().has_value());
    // A new epoch after the stop is complete and correct.
    check_same(read_epoch(reader, plan), read_synchronously(*dataset, plan));
    reader.start_epoch(plan);
    REQUIRE(reader.next().has_value());
  }  // destroyed with batches in flight
  {
    data::AsyncImageReader reader(dataset, quiet(2));
    reader.start_epoch(plan);
    std::thread stopper([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      reader.stop();
    });
    std::int64_t delivered = 0;
    while (reader.next()) ++delivered;
    stopper.join();
    CHECK(delivered <= 15);
  }
  data::AsyncImageReader idle(dataset, quiet(2));  // never started
  CHECK_FALSE(idle.next().has_value());
}

TEST_CASE("images: the reader skips unreadable files or rethrows their error naming the file", "[images]") {
  test::TemporaryFolder root("reader_errors");
  for (int i = 0; i < 6; ++i) test::write_png(root / ("a/" + std::to_string(i) + ".png"), test::pattern(5, 5, 3, i));
  test::write_text(root / "a/3.png", "corrupt");
  data::ImageTransform transform;
  transform.height = transform.width = 4;
  const auto dataset = std::make_shared<data::ImageDataset>(data::list_image_folder(root.path().string()), transform);
  const data::EpochPlan plan{data::sequential_order(6), 2, std::nullopt};

  std::atomic<int> reported = 0;
  data::ReaderOptions options = quiet(2);
  options.on_skipped = [&](const data::SkippedFile& file) {
    if (file.path.ends_with("3.png")) ++reported;
  };
  data::AsyncImageReader skipping(dataset, options);
  const std::vector<data::Batch> batches = read_epoch(skipping, plan);
  REQUIRE(batches.size() == 3);
  CHECK(batches[1].labels.size(0) == 1);
  REQUIRE(skipping.skipped().size() == 1);
  CHECK_THAT(skipping.skipped()[0].path, Contains("3.png"));
  // The reason does not repeat the path ("kiln: skipped PATH: REASON" names it once).
  CHECK_THAT(skipping.skipped()[0].reason, Contains("not a readable") && !Contains("3.png"));
  CHECK(reported == 1);
  // A second epoch counts the file again but reports it only once.
  CHECK(read_epoch(skipping, plan).size() == 3);
  CHECK(skipping.skipped().size() == 2);
  CHECK(reported == 1);

  options.skip_unreadable = false;
  for (const int threads : {1, 3}) {
    options.threads = threads;
    data::AsyncImageReader strict(dataset, options);
    strict.start_epoch(plan);
    REQUIRE(strict.next().has_value());
    CHECK_THROWS_WITH(strict.next(), Contains("3.png") && Contains("not a readable"));
    CHECK_FALSE(strict.next().has_value());
    // The reader stays usable: the next epoch reports the file again at the same batch.
    strict.start_epoch(plan);
    REQUIRE(strict.next().has_value());
    CHECK_THROWS_WITH(strict.next(), Contains("3.png"));
  }
}

TEST_CASE("images: normalisation estimated from the training images", "[images]") {
  test::TemporaryFolder root("estimate");
  test::write_png(root / "a/red.png", test::solid(4, 4, 255, 0, 51));
  test::write_png(root / "b/black.png", test::solid(4, 4, 0, 0, 51));
  test::write_text(root / "b/broken.png", "corrupt");
  data::ImageTransform transform;
  transform.height = transform.width = 2;
  const data::ImageDataset dataset(data::list_image_folder(root.path().string()), transform);
  std::vector<data::SkippedFile> skipped;
  const data::Normalization statistics = data::estimate_normalization(dataset, 0, skipped);
  CHECK(statistics.mean[0] == Approx(0.5));
  CHECK(statistics.std[0] == Approx(0.5));
  CHECK(statistics.mean[1] == 0.0);
  CHECK(statistics.std[1] == 1.0);  // a constant channel
  CHECK(statistics.mean[2] == Approx(0.2));
  REQUIRE(skipped.size() == 1);
  CHECK_THAT(skipped[0].path, Contains("broken.png"));
}
