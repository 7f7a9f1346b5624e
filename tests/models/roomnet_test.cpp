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
