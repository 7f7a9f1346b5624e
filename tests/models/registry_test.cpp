// The model registry with options, and kiln info's flags and output.
#include <algorithm>
#include <catch2/catch.hpp>
#include <iostream>
#include <sstream>

#include "kiln/kiln.h"
#include "kiln/models/registry.h"
#include "kiln/models/roomnet.h"
#include "tools/commands.h"
#include "tools/model_flags.h"

using namespace kiln;

TEST_CASE("registry: models by name and options", "[models]") {
  CHECK(models::model_names() == std::vector<std::string>{"fmnist-small", "fmnist-bn", "roomnet", "vgg", "fcn8s", "fcn16s",
                                                         "fcn32s", "facade-net"});
  Generator generator(10);
  CHECK(models::make_model("fmnist-small", generator)->parameter_count() == 45458);
  CHECK_THROWS_WITH(models::make_model("fmnist-small", {{"depth", "11"}}, generator),
                    Catch::Contains("no option 'depth'"));
  CHECK_THROWS_WITH(models::make_model("resnet", generator), Catch::Contains("roomnet, vgg"));

  const auto roomnet = models::make_model("roomnet", {{"dropout", "0.25"}}, generator);
  CHECK(roomnet->parameter_count() == 176910);
  CHECK(dynamic_cast<models::RoomNet&>(*roomnet).dropout() == 0.25);
  REQUIRE(roomnet->named_generators().size() == 1);
  CHECK(roomnet->named_generators()[0].name == "dropout");
  CHECK_THROWS_WITH(models::make_model("roomnet", {{"depth", "16"}}, generator), Catch::Contains("'depth'"));

  const auto vgg = models::make_model(
      "vgg", {{"depth", "11"}, {"channels", "2"}, {"classifier_width", "4"}, {"classes", "3"}}, generator);
  CHECK(vgg->parameter_count() ==
        models::describe_model("vgg", {{"depth", "11"}, {"channels", "2"}, {"classifier_width", "4"}, {"classes", "3"}})
            .parameters());
  CHECK(models::model_option_specs("roomnet").size() == 3);
}

TEST_CASE("registry: the Fashion-MNIST nets' layer tables match the built models", "[models]") {
  for (const char* name : {"fmnist-small", "fmnist-bn"}) {
    INFO(name);
    Generator generator(3);
    const std::shared_ptr<nn::Module> model = models::make_model(name, generator);
    const models::LayerTable table = models::describe_model(name, {});
    CHECK(table.input == Shape{1, 28, 28});
    CHECK(table.parameters() == model->parameter_count());
    model->eval();
    CHECK(Shape{model->forward(Tensor::zeros({2, 1, 28, 28})).size(1)} == table.rows.back().output);
    // Every named module with parameters has its row.
    for (const nn::NamedParameter& parameter : model->named_parameters()) {
      const std::string module = parameter.name.substr(0, parameter.name.rfind('.'));
      CHECK(std::any_of(table.rows.begin(), table.rows.end(),
                        [&](const models::LayerRow& row) { return row.name == module; }));
    }
    CHECK_THROWS_WITH(models::describe_model(name, {{"depth", "11"}}), Catch::Contains("no option 'depth'"));
  }
  const models::LayerTable small = models::describe_model("fmnist-small", {});
  REQUIRE(small.rows.size() == 7);
  CHECK(small.rows[3].output == Shape{32, 3, 3});  // the 3x3 max pool of an 11x11 map
  CHECK(small.rows[4].output == Shape{288});
  // conv1 26 * 26 * 32 * 9, conv2 11 * 11 * 32 * 32 * 9, fc1 288 * 120, fc2 120 * 10.
  CHECK(small.multiply_accumulates() == 194'688 + 1'115'136 + 34'560 + 1'200);
  const models::LayerTable bn = models::describe_model("fmnist-bn", {});
  CHECK(bn.rows.back().name == "classifier.5");
  CHECK(bn.rows[13].name == "features.13");
  CHECK(bn.rows[13].output == Shape{32, 7, 7});
}

TEST_CASE(
    "info: seed-style flags become model options and the table prints "
    "the counts",
    "[models]") {
  const cli::Command info = tools::info_command();
  const cli::Arguments arguments =
      info.parse({"--model", "vgg", "-d", "16", "-c11", "--batch-norm", "-i", "64", "--pool", "max"});
  const models::ModelOptions options = tools::model_options_from(arguments);
  CHECK(options ==
        models::ModelOptions{
            {"depth", "16"}, {"conv1x1", "true"}, {"batch_norm", "true"}, {"image_size", "64"}, {"pool", "max"}});

  std::ostringstream captured;
  std::streambuf* const original = std::cout.rdbuf(captured.rdbuf());
  const int status = info.run(info.parse({"--model", "vgg", "--depth", "16"}));
  std::cout.rdbuf(original);
  CHECK(status == 0);
  CHECK_THAT(captured.str(), Catch::Contains("parameters: 138357544\n") &&
                                 Catch::Contains("multiply-accumulates per image: ") &&
                                 Catch::Contains("features.28") && Catch::Contains("depth=16"));

  std::ostringstream fmnist;
  std::cout.rdbuf(fmnist.rdbuf());
  const int fmnist_status = info.run(info.parse({"--model", "fmnist-small"}));
  std::cout.rdbuf(original);
  CHECK(fmnist_status == 0);
  CHECK_THAT(fmnist.str(), Catch::Contains("conv1") && Catch::Contains("fc 288->120, relu") &&
                               Catch::Contains("parameters: 45458\n") &&
                               Catch::Contains("multiply-accumulates per image: 1345584"));
}
