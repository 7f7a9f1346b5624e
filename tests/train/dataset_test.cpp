#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kiln/data/dataset.h"

using namespace kiln;

namespace {

// Image i is filled with the value i and labelled i % 3.
data::LabelledImages numbered_set(std::int64_t count) {
  std::vector<float> pixels;
  std::vector<std::int32_t> labels;
  for (std::int64_t i = 0; i < count; ++i) {
    pixels.insert(pixels.end(), 4, static_cast<float>(i));
    labels.push_back(static_cast<std::int32_t>(i % 3));
  }
  return {Tensor::from_vector(pixels, {count, 1, 2, 2}), Tensor::from_vector(labels, {count}), {"a", "b", "c"}};
}

std::vector<float> first_pixels(const Tensor& images) {
  std::vector<float> values;
  const std::vector<float> all = images.to_vector();
  for (std::size_t i = 0; i < all.size(); i += 4) values.push_back(all[i]);
  return values;
}

}  // namespace

TEST_CASE("dataset: per-channel statistics and normalisation", "[train]") {
  // Channel 0 holds 1, 3 (image 0) and 5, 7 (image 1): mean 4, variance 5. Channel 1 is constant 2.
  Tensor images = Tensor::from_vector(std::vector<float>{1, 3, 2, 2, 5, 7, 2, 2}, {2, 2, 1, 2});
  const data::Normalization statistics = data::channel_statistics(images);
  CHECK(statistics.mean[0] == Approx(4.0));
  CHECK(statistics.std[0] == Approx(std::sqrt(5.0)));
  CHECK(statistics.mean[1] == Approx(2.0));
  CHECK(statistics.std[1] == 1.0);  // constant: left unscaled rather than divided by zero
  data::normalize(images, statistics);
  const std::vector<float> values = images.to_vector();
  CHECK(values[0] == Approx(-3 / std::sqrt(5.0)));
  CHECK(values[5] == Approx(3 / std::sqrt(5.0)));
  CHECK(values[2] == 0.0f);
  CHECK_THROWS_WITH(data::normalize(images, {{0.0}, {1.0}}), Catch::Contains("2 channels"));
}

TEST_CASE("dataset: the validation split is a seeded partition", "[train]") {
  const data::LabelledImages set = numbered_set(20);
  Generator first(5), second(5), other(6);
  const data::TrainValidationSplit split = data::split_validation(set, 0.25, first);
  CHECK(split.validation.images.size(0) == 5);
  CHECK(split.train.images.size(0) == 15);
  std::vector<float> all = first_pixels(split.train.images);
  const std::vector<float> validation = first_pixels(split.validation.images);
  all.insert(all.end(), validation.begin(), validation.end());
  std::sort(all.begin(), all.end());
  std::vector<float> expected(20);
  std::iota(expected.begin(), expected.end(), 0.0f);
  CHECK(all == expected);
  CHECK(split.validation.labels.to_vector()[0] == static_cast<float>(static_cast<int>(validation[0]) % 3));
  CHECK(first_pixels(data::split_validation(set, 0.25, second).validation.images) == validation);
  CHECK(first_pixels(data::split_validation(set, 0.25, other).validation.images) != validation);
  CHECK_THROWS_WITH(data::split_validation(set, 0.01, first), Catch::Contains("0 for validation"));
}

TEST_CASE("dataset: batches follow the order and the last one holds the rest", "[train]") {
  const data::LabelledImages set = numbered_set(5);
  data::BatchSampler sampler(set, 2);
  CHECK(sampler.batch_count() == 3);
  sampler.set_order({4, 0, 3, 1, 2});
  CHECK(first_pixels(sampler.batch(0).images) == std::vector<float>{4, 0});
  const data::Batch middle = sampler.batch(1);
  CHECK(first_pixels(middle.images) == std::vector<float>{3, 1});
  CHECK(middle.labels.to_vector() == std::vector<float>{0, 1});
  const data::Batch last = sampler.batch(2);
  CHECK(last.images.shape() == Shape{1, 1, 2, 2});
  CHECK(first_pixels(last.images) == std::vector<float>{2});
  CHECK_THROWS_WITH(sampler.set_order({0, 1}), Catch::Contains("2 indices for a set of 5"));
}

TEST_CASE("dataset: take_first and permutation", "[train]") {
  const data::LabelledImages set = numbered_set(6);
  CHECK(first_pixels(data::take_first(set, 3).images) == std::vector<float>{0, 1, 2});
  CHECK(data::take_first(set, 0).images.same(set.images));
  Generator generator(1);
  std::vector<std::int64_t> order = data::permutation(50, generator);
  CHECK(generator.state().offset == 49);
  std::vector<std::int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> identity(50);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(sorted == identity);
  CHECK(order != identity);
}
