#include <catch2/catch.hpp>

#include <iostream>
#include <sstream>

#include "kiln/data/idx.h"
#include "kiln/device.h"
#include "kiln/models/registry.h"
#include "kiln/train/checkpoint.h"
#include "kiln/train/preprocess.h"
#include "tests/data/image_files.h"
#include "tests/train/colour_folders.h"
#include "tests/tools/run_kiln.h"
#include "tools/commands.h"

using namespace kiln;

namespace {

// Runs `kiln <words>` with the train and eval commands, capturing what they print.
test::Run run_kiln(const std::vector<std::string>& words) {
  return test::run_kiln({tools::train_command(), tools::eval_command()}, words);
}

}  // namespace

TEST_CASE("cli: an unknown flag is a usage error naming it", "[train]") {
  CHECK_THROWS_WITH(tools::train_command().parse({"--epochs", "2", "--bogus"}), Catch::Contains("--bogus"));
  const test::Run run = run_kiln({"train", "--learning-rate", "0.1"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.errors, Catch::Contains("unknown flag --learning-rate"));
}

TEST_CASE("cli: a bad value is a usage error naming the flag", "[train]") {
  using Case = std::pair<std::vector<std::string>, std::string>;
  const auto [words, flag] = GENERATE(Case{{"train", "--epochs", "two"}, "--epochs"},
                                      Case{{"train", "-b", "0"}, "--batch-size"},
                                      Case{{"train", "--lr", "fast"}, "--lr"},
                                      Case{{"train", "--model", "resnet"}, "--model"},
                                      Case{{"train", "--optimizer", "lion"}, "--optimizer"},
                                      Case{{"train", "--val-fraction", "1.5"}, "--val-fraction"},
                                      Case{{"train", "--device", "tpu"}, "--device"},
                                      Case{{"train", "--batch-schedule", "8,x@5"}, "--batch-schedule"},
                                      Case{{"train", "--dropout-schedule", "0.3@5"}, "--dropout-schedule"},
                                      Case{{"train", "--batch-schedule", "8,32@5,40@5"}, "--batch-schedule"},
                                      Case{{"train", "--batch-schedule", "8,32.5@5"},
                                           "--batch-schedule: value 32.5 in '8,32.5@5' is not a whole number"},
                                      Case{{"train", "--batch-schedule", "8,32@2.5"}, "--batch-schedule"},
                                      Case{{"train", "--normalize", "unit"}, "--normalize"},
                                      Case{{"train", "--batch-size", "0"},
                                           "--batch-size: 0 is out of range [1, 1048576]"},
                                      Case{{"train", "--lr", "0"}, "--lr: 0 is out of range (0, 100]"},
                                      Case{{"train", "--momentum", "1.5"}, "--momentum: 1.5 is out of range [0, 1]"},
                                      Case{{"train", "--freeze-bn-stats", "-2"}, "--freeze-bn-stats"},
                                      Case{{"eval", "--json"}, "--checkpoint"},
                                      Case{{"eval", "--checkpoint", "x", "--batch-size", "-3"}, "--batch-size"});
  const test::Run run = run_kiln(words);
  INFO(run.errors);
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.errors, Catch::Contains(flag) && !Catch::Contains("train config"));
}

TEST_CASE("cli: --device cuda without a usable GPU fails clearly", "[train]") {
  if (cuda_device_count() > 0) return;  // the message only exists where there is no GPU
  const test::Run run = run_kiln({"train", "--device", "cuda", "--epochs", "1"});
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.errors, Catch::Contains("--device cuda") && Catch::Contains("no usable CUDA device"));
  CHECK_THAT(run.output, Catch::Contains(cuda_status_line()));
}

TEST_CASE("cli: --help lists the training flags with their defaults", "[train]") {
  const std::string help = tools::train_command().help();
  for (const char* flag : {"--model", "--epochs", "--batch-size, -b", "--lr-decay-rate", "--lr-staircase",
                           "--weight-decay", "--early-stopping", "--val-fraction", "--limit-train", "--resume"}) {
    CHECK_THAT(help, Catch::Contains(flag));
  }
  CHECK_THAT(help, Catch::Contains("(default: 256)"));
}

TEST_CASE("cli: the training flags come from the config fields with their names, aliases and defaults", "[train]") {
  const cli::Command command = tools::train_command();
  const cli::Arguments defaults = command.parse({});
  using Default = std::pair<std::string, std::string>;
  for (const auto& [flag, value] :
       {Default{"--model", "fmnist-small"}, Default{"--epochs", "10"}, Default{"--batch-size", "256"},
        Default{"--optimizer", "adam"}, Default{"--lr", "0.001"}, Default{"--lr-decay-steps", "1000"},
        Default{"--momentum", "0.9"}, Default{"--seed", "0"}, Default{"--val-fraction", "0.1"},
        Default{"--data", data::fashion_mnist_default_folder}, Default{"--out", "runs/train"}}) {
    CHECK(defaults.text(flag) == value);
  }
  const cli::Arguments aliases =
      command.parse({"-b", "8", "-e", "3", "-lr", "0.01", "-es", "2", "-t", "train", "-v", "val", "--lr-staircase"});
  for (const auto& [flag, value] : {Default{"--batch-size", "8"}, Default{"--epochs", "3"}, Default{"--lr", "0.01"},
                                    Default{"--early-stopping", "2"}, Default{"--data", "train"},
                                    Default{"--val-data", "val"}}) {
    CHECK(aliases.text(flag) == value);
  }
  CHECK(aliases.flag("--lr-staircase"));
  const std::string help = command.help();
  for (const char* line : {"--optimizer adam|sgd", "--normalize [-1,1]|imagenet|[0,1]|computed", "--model NAME",
                           "--early-stopping, -es N", "--batch-schedule B0,B1@STEP,...", "--precise-bn N"}) {
    CHECK_THAT(help, Catch::Contains(line));
  }
  const std::size_t model_line = help.find("  --model ");
  const std::string model_help = help.substr(model_line, help.find('\n', model_line) - model_line);
  for (const std::string& model : models::model_names()) CHECK_THAT(model_help, Catch::Contains(model));
}

TEST_CASE("cli: kiln train on an image folder with the VGG seed's flags", "[train]") {
  test::TemporaryFolder folder("cli_images");
  test::write_colour_classes(folder / "train", 3, 24, 20);
  test::write_colour_classes(folder / "val", 1, 24, 20);
  test::write_text(folder / "train/red/broken.jpg", "truncated");
  const std::string out = (folder / "run").string();
  // The VGG seed's spellings: -d, -c11, -i, -t, -v, -b, -e, -es, -lr.
  const std::vector<std::string> words = {
      "train", "--model", "vgg", "-d", "11", "--channels", "4", "--classifier-width", "8", "--pool-grid", "1", "-i",
      "32", "-t", (folder / "train").string(), "-v", (folder / "val").string(), "-b", "4", "-e", "1", "-es", "3",
      "-lr", "1e-3", "--augment-flip", "--reader-threads", "2", "--device", "cpu", "--out", out};
  std::vector<std::string> with_conv1x1 = words;
  with_conv1x1.insert(with_conv1x1.begin() + 5, "-c11");
  const test::Run run = run_kiln(with_conv1x1);
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.errors, Catch::Contains("conv1x1 (configuration C) needs depth 16"));
  const test::Run trained = run_kiln(words);
  INFO(trained.output << trained.errors);
  REQUIRE(trained.exit_code == 0);
  CHECK_THAT(trained.output, Catch::Contains("10 training, 3 validation images"));
  CHECK_THAT(trained.output, Catch::Contains("skipped 1 unreadable image files this epoch"));
  CHECK_THAT(trained.output, Catch::Contains("skipped 1 unreadable image files in all") &&
                                 Catch::Contains("broken.jpg"));
  const std::string best = out + "/best.safetensors";
  const train::CheckpointInfo info = train::read_checkpoint_info(load_safetensors(best), best);
  CHECK(info.classes == std::vector<std::string>{"blue", "green", "red"});
  CHECK_THAT(info.model_options, Catch::Contains("\"depth\":\"11\"") && Catch::Contains("\"classes\":\"3\""));
  const data::ImageTransform transform = train::inference_transform(info);
  CHECK(transform.height == 32);
  CHECK_FALSE(transform.square_crop);
  CHECK(transform.normalization.mean == info.input.mean);
  CHECK(train::read_preprocess(info)->normalize == "computed");
}
