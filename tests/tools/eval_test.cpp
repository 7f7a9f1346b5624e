// kiln eval on image folders: a checkpoint of a model trained on image files is evaluated on a held-out folder with
// the same table, JSON and report as a Fashion-MNIST checkpoint, through the model family's task.
#include <catch2/catch.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kiln/train/trainer.h"
#include "tests/data/image_files.h"
#include "tests/train/colour_folders.h"
#include "tests/tools/run_kiln.h"
#include "tools/commands.h"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

test::Run run_eval(std::vector<std::string> words) {
  words.insert(words.begin(), "eval");
  return test::run_kiln({tools::eval_command()}, words);
}

// A narrow VGG-11 trained for a few epochs on colour classes, its run folder under `root`.
fs::path train_vgg(const test::TemporaryFolder& root) {
  test::write_colour_classes(root / "train", 8, 40, 30);
  train::TrainConfig config;
  config.model = "vgg";
  config.model_options = {{"depth", "11"}, {"channels", "4"}, {"classifier_width", "16"}, {"pool_grid", "1"},
                          {"image_size", "32"}, {"dropout", "0"}};
  config.data = (root / "train").string();
  config.epochs = 6;
  config.batch_size = 6;
  config.lr = 1e-2;
  config.weight_decay = 0;
  config.seed = 5;
  config.val_fraction = 0.25;
  config.out_dir = (root / "run").string();
  train::Trainer trainer(config, train::load_training_data(config, train::ReaderSettings{2, false}));
  REQUIRE(trainer.fit() == train::TrainOutcome::completed);
  return root / "run";
}

}  // namespace

TEST_CASE("eval: an image-folder checkpoint on a held-out folder: per-class scores, JSON and report", "[eval]") {
  test::TemporaryFolder root("eval_folder");
  const fs::path run = train_vgg(root);
  test::ColourImages held_out;
  held_out.per_class = 3;
  held_out.first_seed = 1000;
  test::write_colour_classes(root / "test", held_out);
  const std::string checkpoint = (run / "last.safetensors").string();

  const test::Run json = run_eval({"--checkpoint", checkpoint, "--data", (root / "test").string(), "--json", "--device",
                             "cpu"});
  INFO(json.errors);
  REQUIRE(json.exit_code == 0);
  const nlohmann::json report = nlohmann::json::parse(json.output);
  CHECK(report.at("count") == 9);
  REQUIRE(report.at("per_class").size() == 3);
  CHECK(report.at("per_class")[0].at("class") == "blue");
  CHECK(report.at("per_class")[2].at("support") == 3);
  CHECK(report.at("confusion").size() == 3);
  for (const auto& row : report.at("per_class")) {
    CHECK(row.at("precision").get<double>() >= 0);
    CHECK(row.at("f1").get<double>() <= 1);
  }
  CHECK(fs::exists(run / "report.html"));

  const test::Run table = run_eval({"--checkpoint", checkpoint, "--data", (root / "test").string(), "--no-report"});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.output, Catch::Contains("image folder") && Catch::Contains("precision  recall") &&
                               Catch::Contains("green") && Catch::Contains("macro average") &&
                               Catch::Contains("confusion matrix"));
}

TEST_CASE("eval: data that does not fit the checkpoint is an error naming it", "[eval]") {
  test::TemporaryFolder root("eval_errors");
  const fs::path run = train_vgg(root);
  // Fashion-MNIST's classes are not the checkpoint's.
  test::TemporaryFolder empty("eval_errors_empty");
  const test::Run missing = run_eval({"--checkpoint", (run / "last.safetensors").string(), "--data",
                                (empty / "nowhere").string()});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.errors, Catch::Contains("nowhere"));
}
