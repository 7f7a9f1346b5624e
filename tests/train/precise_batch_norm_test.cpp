// Precise batch norm: the running statistics recomputed from batches are exactly the population mean and variance of
// what each norm sees in train mode, for norms over maps and over features, one batch or several.
#include <catch2/catch.hpp>
#include <memory>

#include "kiln/kiln.h"
#include "kiln/models/registry.h"
#include "kiln/data/data_source.h"
#include "kiln/data/dataset.h"
#include "kiln/train/precise_batch_norm.h"

using namespace kiln;

namespace {

// conv 1x1 1->2, batch norm over 2x2 maps, relu, dropout, fc 8->3, batch norm over features.
class TwoNorms : public nn::Module {
 public:
  explicit TwoNorms(Generator& generator) : dropout_generator(5) {
    conv = register_module("conv", std::make_shared<nn::Conv2d>(1, 2, 1, generator));
    map_norm = register_module("map_norm", std::make_shared<nn::BatchNorm>(2, 0.1, 1e-3));
    dropout = register_module("dropout", std::make_shared<nn::Dropout>(0.5, dropout_generator));
    linear = register_module("linear", std::make_shared<nn::Linear>(8, 3, generator));
    feature_norm = register_module("feature_norm", std::make_shared<nn::BatchNorm>(3, 0.1, 1e-3));
  }
  Tensor forward(const Tensor& images) override { return feature_norm->forward(features(images)); }
  // What feature_norm normalises, with dropout off.
  Tensor features(const Tensor& images) {
    return linear->forward(dropout->forward(relu(map_norm->forward(conv->forward(images))).flatten(1)));
  }

  Generator dropout_generator;
  std::shared_ptr<nn::Conv2d> conv;
  std::shared_ptr<nn::BatchNorm> map_norm, feature_norm;
  std::shared_ptr<nn::Dropout> dropout;
  std::shared_ptr<nn::Linear> linear;
};

data::LabelledImages random_set(std::int64_t count, Generator& generator) {
  std::vector<std::int32_t> labels(static_cast<std::size_t>(count), 0);
  return {Tensor::uniform({count, 1, 2, 2}, -2, 3, generator), Tensor::from_vector(labels, {count}), {"only"}};
}

// Per-channel mean and population variance (divided by the count) of [N, C] or [N, C, H, W] values.
struct Moments {
  std::vector<double> mean, variance;
};
Moments moments(const Tensor& x) {
  const std::int64_t outer = x.size(0), channels = x.size(1), inner = x.numel() / (outer * channels);
  const std::vector<double> values = x.to_vector_f64();
  Moments result{std::vector<double>(channels, 0.0), std::vector<double>(channels, 0.0)};
  const double count = static_cast<double>(outer * inner);
  for (std::int64_t c = 0; c < channels; ++c) {
    const auto at = [&](std::int64_t o, std::int64_t i) { return values[static_cast<std::size_t>((o * channels + c) * inner + i)]; };
    for (std::int64_t o = 0; o < outer; ++o) {
      for (std::int64_t i = 0; i < inner; ++i) result.mean[c] += at(o, i) / count;
    }
    for (std::int64_t o = 0; o < outer; ++o) {
      for (std::int64_t i = 0; i < inner; ++i) result.variance[c] += (at(o, i) - result.mean[c]) * (at(o, i) - result.mean[c]) / count;
    }
  }
  return result;
}

void check_statistics(const nn::BatchNorm& norm, const Moments& expected) {
  const std::vector<double> mean = norm.running_mean.to_vector_f64(), variance = norm.running_var.to_vector_f64();
  REQUIRE(mean.size() == expected.mean.size());
  for (std::size_t c = 0; c < mean.size(); ++c) {
    INFO("channel " << c);
    CHECK(mean[c] == Approx(expected.mean[c]).epsilon(1e-5).margin(1e-6));
    CHECK(variance[c] == Approx(expected.variance[c]).epsilon(1e-5));
  }
}

// Rows of `set` at `indices`, in that order.
Tensor rows(const data::LabelledImages& set, const std::vector<std::int64_t>& indices) {
  return data::gather(set, indices).images;
}

}  // namespace

TEST_CASE("precise batch norm: one batch of the whole set gives its exact statistics; eval then equals train mode",
          "[train]") {
  Generator generator(4);
  TwoNorms model(generator);
  const data::LabelledImages set = random_set(8, generator);
  data::InMemorySource source(set);

  // Train mode with dropout off is what the recomputation sees; the norms' inputs, computed here step by step.
  model.train();
  model.dropout->eval();
  const Moments map_moments = moments(model.conv->forward(set.images));
  const Moments feature_moments = moments(model.features(set.images));
  const std::vector<float> train_logits = model.forward(set.images).to_vector();
  model.train();
  model.map_norm->freeze_statistics();  // restored afterwards, as are the momenta and modes
  const GeneratorState dropout_state = model.dropout_generator.state();

  const train::PreciseBatchNormResult result = train::recompute_batch_norm_statistics(model, source, {0, 8, 3});
  CHECK(result.layers == 2);
  CHECK(result.batches == 1);
  CHECK(result.images == 8);
  check_statistics(*model.map_norm, map_moments);
  check_statistics(*model.feature_norm, feature_moments);
  CHECK(model.map_norm->statistics_frozen());
  CHECK_FALSE(model.feature_norm->statistics_frozen());
  CHECK(model.map_norm->momentum == 0.1);
  CHECK(model.is_training());
  CHECK(model.dropout->is_training());
  CHECK(model.dropout_generator.state().offset == dropout_state.offset);

  model.eval();
  const std::vector<float> eval_logits = model.forward(set.images).to_vector();
  REQUIRE(eval_logits.size() == train_logits.size());
  for (std::size_t i = 0; i < eval_logits.size(); ++i) CHECK(eval_logits[i] == Approx(train_logits[i]).margin(1e-5));
}

TEST_CASE("precise batch norm: over several batches, the population of every norm's train-mode inputs", "[train]") {
  Generator generator(6);
  TwoNorms model(generator);
  const data::LabelledImages set = random_set(10, generator);
  data::InMemorySource source(set);
  constexpr std::uint64_t seed = 17;
  // The batches the recomputation cuts (whole batches of 3: 9 of the 10 images), each normalised on its own.
  Generator shuffle(seed);
  const std::vector<std::int64_t> order = data::permutation(10, shuffle);
  model.train();
  model.dropout->eval();
  const std::vector<std::int64_t> used(order.begin(), order.begin() + 9);
  std::vector<Tensor> features;
  for (std::size_t first = 0; first < used.size(); first += 3) {
    features.push_back(model.features(rows(set, {used.begin() + first, used.begin() + first + 3})));
  }
  std::vector<float> all_features;
  for (const Tensor& batch : features) {
    const std::vector<float> values = batch.to_vector();
    all_features.insert(all_features.end(), values.begin(), values.end());
  }
  const Moments map_moments = moments(model.conv->forward(rows(set, used)));
  const Moments feature_moments = moments(Tensor::from_vector(all_features, {9, 3}));

  const train::PreciseBatchNormResult result = train::recompute_batch_norm_statistics(model, source, {0, 3, seed});
  CHECK(result.batches == 3);
  CHECK(result.images == 9);
  check_statistics(*model.map_norm, map_moments);          // 4 values per channel and image
  check_statistics(*model.feature_norm, feature_moments);  // 1 value per channel and image

  CHECK(train::recompute_batch_norm_statistics(model, source, {5, 2, seed}).images == 4);  // whole batches
  CHECK(train::recompute_batch_norm_statistics(model, source, {2, 4, seed}).images == 2);  // fewer than a batch
  CHECK_THROWS_WITH(train::recompute_batch_norm_statistics(model, source, {0, 0, seed}),
                    Catch::Contains("batch size"));
}

TEST_CASE("precise batch norm: a model without batch norm is left alone", "[train]") {
  Generator generator(2);
  const std::shared_ptr<nn::Module> model = models::make_model("fmnist-small", generator);
  const std::vector<std::int32_t> labels(4, 0);
  data::InMemorySource source(
      {Tensor::zeros({4, 1, 28, 28}), Tensor::from_vector(labels, {4}), {"only"}});
  const train::PreciseBatchNormResult result = train::recompute_batch_norm_statistics(*model, source, {0, 2, 1});
  CHECK(result.layers == 0);
  CHECK(result.batches == 0);
}
