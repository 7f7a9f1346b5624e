// RoomNet: the published size and layer table, forward shapes, the channels-last flatten, dropout and frozen batch norm
// statistics.
#include <catch2/catch.hpp>
#include <cmath>

#include "kiln/kiln.h"
#include "kiln/models/roomnet.h"

using namespace kiln;
using namespace kiln::models;

namespace {

std::vector<std::vector<float>> buffer_values(const nn::Module& model) {
  std::vector<std::vector<float>> values;
  for (const nn::NamedBuffer& buffer : model.named_buffers()) values.push_back(buffer.tensor.to_vector());
  return values;
}

// Gives every parameter and buffer float64 storage in place (every handle to them sees it), for a finite-difference
// check of the whole model; kiln's modules have no dtype conversion of their own.
void to_float64(nn::Module& model) {
  std::vector<Tensor> tensors;
  for (const nn::NamedParameter& parameter : model.named_parameters()) tensors.push_back(parameter.tensor);
  for (const nn::NamedBuffer& buffer : model.named_buffers()) tensors.push_back(buffer.tensor);
  for (const Tensor& tensor : tensors) {
    const Tensor converted = tensor.detach().to(DType::f64);
    tensor.impl()->storage = converted.impl()->storage;
    tensor.impl()->offset_bytes = converted.impl()->offset_bytes;
    tensor.impl()->dtype = DType::f64;
  }
}

const LayerRow& row_named(const LayerTable& table, const std::string& name) {
  for (const LayerRow& row : table.rows) {
    if (row.name == name) return row;
  }
  FAIL("no layer " << name);
  return table.rows.front();
}

}  // namespace

TEST_CASE("roomnet: 176,910 trainable parameters and the published layer table", "[models]") {
  Generator generator(1);
  const RoomNet model(RoomNetOptions{}, generator);
  CHECK(model.parameter_count() == 176910);
  std::int64_t statistics = 0;
  for (const nn::NamedBuffer& buffer : model.named_buffers()) statistics += buffer.tensor.numel();
  CHECK(statistics == 1152);  // the published file holds 178,062 floats in all

  const LayerTable table = roomnet_layer_table(RoomNetOptions{});
  CHECK(table.parameters() == 176910);
  CHECK(row_named(table, "block_a.0").output == Shape{8, 220, 220});
  CHECK(row_named(table, "block_b.0").output == Shape{32, 215, 215});
  CHECK(row_named(table, "block_b.norm").output == Shape{32, 205, 205});
  CHECK(row_named(table, "block_c.0").output == Shape{64, 100, 100});
  CHECK(row_named(table, "block_c.norm").output == Shape{64, 48, 48});
  CHECK(row_named(table, "block_d.0").output == Shape{128, 46, 46});
  CHECK(row_named(table, "block_e.0").output == Shape{16, 21, 21});
  CHECK(row_named(table, "block_e.norm").output == Shape{16, 2, 2});
  CHECK(row_named(table, "flatten").output == Shape{64});
  CHECK(row_named(table, "dense_j").output == Shape{6});
  // roomnet.md: about 2.24 G multiply-accumulates per image.
  CHECK(table.multiply_accumulates() > 2'200'000'000);
  CHECK(table.multiply_accumulates() < 2'300'000'000);
  CHECK(roomnet_class_names() ==
        std::vector<std::string>{"Backyard", "Bathroom", "Bedroom", "Frontyard", "Kitchen", "LivingRoom"});
}

TEST_CASE("roomnet: forward shapes at 224 and at the smallest input, 183", "[models]") {
  Generator generator(2);
  RoomNet published(RoomNetOptions{}, generator);
  published.eval();
  const Tensor logits = published(Tensor::uniform({1, 3, 224, 224}, -1, 1, generator));
  REQUIRE(logits.shape() == Shape{1, 6});
  for (const float value : logits.to_vector()) CHECK((value >= 0 && value <= 6));  // ReLU6 of the logits

  RoomNetOptions small;
  small.image_size = 183;
  small.classes = 3;
  RoomNet model(small, generator);
  model.eval();
  CHECK(model(Tensor::uniform({2, 3, 183, 183}, -1, 1, generator)).shape() == Shape{2, 3});
  // The last map is 1x1x16, so the first dense layer has 16 inputs instead of 64.
  CHECK(model.parameter_count() == roomnet_layer_table(small).parameters());
  CHECK(roomnet_layer_table(small).rows.back().output == Shape{3});
  CHECK_THROWS_WITH(model(Tensor::zeros({1, 3, 224, 224})), Catch::Contains("image_size"));

  small.image_size = 182;
  CHECK_THROWS_WITH(roomnet_layer_table(small), Catch::Contains("183"));
  CHECK_THROWS_WITH(RoomNetOptions::from({{"image_size", "100"}}), Catch::Contains("image_size"));
}

TEST_CASE(
    "roomnet: flatten_channels_last orders elements (h, w, c) and passes "
    "gradients back",
    "[models]") {
  std::vector<float> values(2 * 3 * 2 * 2);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i);
  Tensor x = Tensor::from_vector(values, {2, 3, 2, 2});
  x.set_requires_grad(true);
  const Tensor y = flatten_channels_last(x);
  REQUIRE(y.shape() == Shape{2, 12});
  // Image 0: channel c at (h, w) is c*4 + h*2 + w; NHWC order walks c fastest.
  const std::vector<float> expected_first = {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11};
  const std::vector<float> got = y.to_vector();
  CHECK(std::vector<float>(got.begin(), got.begin() + 12) == expected_first);
  CHECK(got[12] == 12);
  CHECK(got[13] == 16);

  std::vector<float> weights(24);
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<float>(i) + 100;
  sum(mul(y, Tensor::from_vector(weights, {2, 12}))).backward();
  // d/dx[n, c, h, w] is the weight at the element's NHWC position.
  const std::vector<float> grad = x.grad().to_vector();
  CHECK(grad[0] == 100);        // c 0, h 0, w 0 -> position 0
  CHECK(grad[4] == 101);        // c 1, h 0, w 0 -> position 1
  CHECK(grad[1] == 103);        // c 0, h 0, w 1 -> position 3
  CHECK(grad[12 + 11] == 123);  // image 1, c 2, h 1, w 1 -> position 11
}

TEST_CASE(
    "roomnet: frozen batch norm statistics stay put in training, "
    "gradients flow",
    "[models]") {
  Generator generator(3);
  RoomNetOptions options;
  options.image_size = 183;
  RoomNet model(options, generator);
  model.train();
  model.set_dropout(0.3);
  CHECK(model.dropout() == 0.3);
  CHECK_THROWS_WITH(model.set_dropout(1.0), Catch::Contains("dropout"));
  const Tensor images = Tensor::uniform({2, 3, 183, 183}, -1, 1, generator);

  model.freeze_batch_norm_statistics();
  const auto before = buffer_values(model);
  sum(model(images)).backward();
  CHECK(buffer_values(model) == before);
  for (const nn::NamedParameter& parameter : model.named_parameters()) {
    INFO(parameter.name);
    REQUIRE(parameter.tensor.grad().defined());
    for (const float value : parameter.tensor.grad().to_vector()) REQUIRE(std::isfinite(value));
  }

  model.freeze_batch_norm_statistics(false);
  model(images);
  CHECK(buffer_values(model) != before);  // training mode updates them again
}

TEST_CASE("roomnet: the whole model's gradients match finite differences (float64, 183 px, train mode)", "[models]") {
  // Every op has its own gradcheck; this checks how RoomNet wires them (the skips, the legacy resize, batch norm over
  // 1x1 maps, the channels-last flatten, ReLU6 logits) along random directions of the weights and of the images.
  Generator generator(21);
  RoomNetOptions options;
  options.image_size = 183;
  options.classes = 3;
  RoomNet model(options, generator);
  to_float64(model);
  model.train();
  Tensor images = Tensor::uniform({3, 3, 183, 183}, -1, 1, generator, DType::f64);
  images.set_requires_grad(true);
  const Tensor projection = Tensor::randn({3, 3}, generator, DType::f64);
  const auto objective = [&] { return sum(mul(model(images), projection)); };
  objective().backward();

  // The images first, then every weight; each gets a random direction and its directional derivative.
  std::vector<Tensor> variables = {images};
  for (const nn::NamedParameter& parameter : model.named_parameters()) variables.push_back(parameter.tensor);
  std::vector<Tensor> directions;
  double analytic_images = 0, analytic_weights = 0;
  for (std::size_t v = 0; v < variables.size(); ++v) {
    directions.push_back(Tensor::randn(variables[v].shape(), generator, DType::f64));
    const std::vector<double> gradient = variables[v].grad().to_vector_f64();
    const std::vector<double> direction = directions[v].to_vector_f64();
    for (std::size_t i = 0; i < gradient.size(); ++i) (v == 0 ? analytic_images : analytic_weights) += gradient[i] * direction[i];
  }

  // Central differences along the directions of variables [first, last), moved in place. The step is tiny because
  // the loss is far from linear: with 1e-5 per element the quotient is already 4% off the gradient, with 1e-4 20%
  // (and it converges to the gradient as the step shrinks, so that is curvature and kinks, not a wrong gradient).
  const NoGradGuard no_grad;
  const auto numeric = [&](std::size_t first, std::size_t last) {
    constexpr double step = 1e-7;
    const auto shift = [&](double by) {
      for (std::size_t v = first; v < last; ++v) {
        double* values = variables[v].data<double>();
        const std::vector<double> direction = directions[v].to_vector_f64();
        for (std::size_t i = 0; i < direction.size(); ++i) values[i] += by * direction[i];
      }
    };
    shift(step);
    const double plus = objective().item();
    shift(-2 * step);
    const double minus = objective().item();
    shift(step);
    return (plus - minus) / (2 * step);
  };
  const double numeric_images = numeric(0, 1), numeric_weights = numeric(1, variables.size());
  INFO("images: analytic " << analytic_images << ", numeric " << numeric_images);
  INFO("weights: analytic " << analytic_weights << ", numeric " << numeric_weights);
  CHECK(std::abs(analytic_images) > 1e-3);  // the directions reach the logits
  CHECK(std::abs(analytic_weights) > 1e-3);
  CHECK(numeric_images == Approx(analytic_images).epsilon(5e-4));
  CHECK(numeric_weights == Approx(analytic_weights).epsilon(5e-4));
}
