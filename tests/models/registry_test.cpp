// The model registry with options, and kiln info's flags and output.
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
  CHECK(models::model_names() == std::vector<std::string>{"fmnist-small", "fmnist-bn", "roomnet", "vgg"});
  Generator generator(10);
  CHECK(models::make_model("fmnist-small", generator)->parameter_count() == 45458);
  CHECK_THROWS_WITH(models::make_model("fmnist-small", {{"depth", "11"}}, generator),
                    Catch::Contains("no option 'depth'"));
  CHECK_THROWS_WITH(models::make_model("resnet", generator), Catch::Contains("roomnet, vgg"));

  const auto roomnet = models::make_model("roomnet", {{"dropout", "0.25"}}, generator);
  CHECK(roomnet->parameter_count() == 176910);
  CHECK(dynamic_cast<models::RoomNet&>(*roomnet).dropout() == 0.25);
  CHECK(models::training_generator(*roomnet) != nullptr);
  CHECK_THROWS_WITH(models::make_model("roomnet", {{"depth", "16"}}, generator), Catch::Contains("'depth'"));

  const auto vgg = models::make_model(
      "vgg", {{"depth", "11"}, {"channels", "2"}, {"classifier_width", "4"}, {"classes", "3"}}, generator);
  CHECK(vgg->parameter_count() ==
        models::describe_model("vgg", {{"depth", "11"}, {"channels", "2"}, {"classifier_width", "4"}, {"classes", "3"}})
            ->parameters());
  CHECK_FALSE(models::describe_model("fmnist-bn", {}).has_value());
  CHECK(models::model_option_specs("roomnet").size() == 3);
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
}
