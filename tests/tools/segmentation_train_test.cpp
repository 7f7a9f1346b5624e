// kiln train, eval and segment on a segmentation set: the model chooses the task, and the run's checkpoints, resume,
// log and evaluation work as for classifiers.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kiln/safetensors.h"
#include "kiln/train/checkpoint.h"
#include "tests/data/image_files.h"
#include "tests/tools/run_kiln.h"
#include "tools/commands.h"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

test::Run kiln_run(const std::vector<std::string>& words) {
  return test::run_kiln({tools::make_scenes_command(), tools::train_command(), tools::eval_command(),
                         tools::segment_command()},
                        words);
}

std::vector<std::string> fcn_train(const fs::path& data, const fs::path& out, const std::string& epochs) {
  return {"train", "--model", "fcn8s", "--channels", "2", "--classifier-width", "8", "--image-size", "28", "--data",
          data.string(), "--val-fraction", "0.25", "--epochs", epochs, "--batch-size", "4", "--lr", "1e-3",
          "--weight-decay", "0", "--augment-flip", "--augment-scale-min", "0.75", "--augment-scale-max", "1.25",
          "--out", out.string(), "--device", "cpu"};
}

std::int64_t lines_of(const fs::path& path) {
  std::ifstream file(path);
  std::int64_t lines = 0;
  for (std::string line; std::getline(file, line);) ++lines;
  return lines;
}

}  // namespace

TEST_CASE("segmentation cli: train, resume, eval and segment a narrow FCN-8s on generated scenes", "[segmentation]") {
  const test::TemporaryFolder root("kiln-segmentation-cli");
  const fs::path scenes = root / "scenes", run = root / "run";
  const test::Run made = kiln_run({"make-scenes", "--out", scenes.string(), "--count", "16", "--size", "28"});
  INFO(made.errors);
  REQUIRE(made.exit_code == 0);

  const test::Run first = kiln_run(fcn_train(scenes, run, "1"));
  INFO(first.output << first.errors);
  REQUIRE(first.exit_code == 0);
  CHECK_THAT(first.output, Catch::Contains("mIoU"));
  const test::Run resumed = kiln_run([&] {
    std::vector<std::string> words = fcn_train(scenes, run, "2");
    words.push_back("--resume");
    return words;
  }());
  INFO(resumed.output << resumed.errors);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.output, Catch::Contains("resuming"));
  CHECK(lines_of(run / "log.jsonl") == 2);

  // The checkpoint names the scenes' classes and their mask colours.
  const std::string checkpoint = (run / "last.safetensors").string();
  const train::CheckpointInfo info = train::read_checkpoint_info(load_safetensors(checkpoint), checkpoint);
  REQUIRE(info.classes.size() == 11);
  CHECK(info.classes[0] == "background");
  REQUIRE(info.class_colors.size() == 11);
  CHECK(info.class_colors[0] == std::array<std::uint8_t, 3>{0, 0, 0});

  const test::Run evaluated = kiln_run({"eval", "--checkpoint", checkpoint, "--data", scenes.string(), "--json",
                                        "--report", (root / "report.html").string()});
  INFO(evaluated.errors);
  REQUIRE(evaluated.exit_code == 0);
  const nlohmann::json scores = nlohmann::json::parse(evaluated.output);
  CHECK(scores["images"] == 16);
  CHECK(scores["per_class"].size() == 11);
  CHECK(scores["mean_iou"].is_number());
  CHECK(fs::file_size(root / "report.html") > 1000);

  const test::Run segmented = kiln_run({"segment", "--checkpoint", checkpoint, "--input",
                                        (scenes / "images").string(), "--out", (root / "masks").string()});
  INFO(segmented.errors);
  REQUIRE(segmented.exit_code == 0);
  CHECK(fs::exists(root / "masks" / "scene_0000.png"));
}

TEST_CASE("segmentation cli: a model and a data set of different tasks are refused, naming both", "[segmentation]") {
  const test::TemporaryFolder root("kiln-segmentation-mismatch");
  const fs::path scenes = root / "scenes";
  REQUIRE(kiln_run({"make-scenes", "--out", scenes.string(), "--count", "4", "--size", "28"}).exit_code == 0);
  const test::Run classifier = kiln_run({"train", "--model", "fmnist-small", "--data", scenes.string(), "--epochs",
                                         "1", "--device", "cpu"});
  CHECK(classifier.exit_code != 0);
  CHECK_THAT(classifier.errors, Catch::Contains("segmentation set") && Catch::Contains("fmnist-small"));
  const test::Run segmenter = kiln_run({"train", "--model", "facade-net", "--epochs", "1", "--device", "cpu"});
  CHECK(segmenter.exit_code != 0);
  CHECK_THAT(segmenter.errors, Catch::Contains("facade-net") && Catch::Contains("segmentation set"));
  const test::Run weights = kiln_run({"train", "--model", "fcn8s", "--channels", "2", "--classifier-width", "8",
                                      "--image-size", "28", "--data", scenes.string(), "--val-fraction", "0.25",
                                      "--epochs", "1", "--encoder-weights", (root / "missing.safetensors").string(),
                                      "--device", "cpu"});
  CHECK(weights.exit_code != 0);
  CHECK_THAT(weights.errors, Catch::Contains("missing.safetensors"));
}
