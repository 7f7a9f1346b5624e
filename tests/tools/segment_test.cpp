// kiln segment end to end: a tiny facade-net checkpoint, a folder of images of two sizes with a corrupt one, the
// masks and overlays it writes, and the errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "kiln/autograd.h"
#include "kiln/data/idx.h"
#include "kiln/data/image_bytes.h"
#include "kiln/data/mask_image.h"
#include "kiln/models/registry.h"
#include "kiln/train/checkpoint.h"
#include "tests/data/image_files.h"
#include "tests/tools/run_kiln.h"
#include "tools/commands.h"

using namespace kiln;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

using Rgb = std::array<std::uint8_t, 3>;

test::Run run_segment(std::vector<std::string> words) {
  words.insert(words.begin(), "segment");
  return test::run_kiln({tools::segment_command()}, words);
}

const data::Normalization facade_input{{0.4, 0.5, 0.6}, {0.2, 0.25, 0.3}};
const std::vector<Rgb> three_colors = {{10, 20, 30}, {200, 100, 0}, {0, 255, 1}};

// A facade-net checkpoint with seeded weights; no class colours gives a checkpoint as written before they existed.
std::shared_ptr<nn::Module> save_facade_checkpoint(const std::string& path, std::int64_t classes,
                                                   const std::vector<Rgb>& colors) {
  const models::ModelOptions options = {{"classes", std::to_string(classes)}, {"image_size", "16"}};
  Generator generator(3);
  std::shared_ptr<nn::Module> model = models::make_model("facade-net", options, generator);
  // Weights larger than the initialisation's, so that the best class varies from pixel to pixel.
  for (const nn::NamedParameter& parameter : model->named_parameters()) {
    Tensor weights = parameter.tensor;
    weights.copy_from(Tensor::uniform(weights.shape(), -0.25, 0.25, generator));
  }
  train::CheckpointInfo info;
  info.model = "facade-net";
  info.model_options = nlohmann::json(options).dump();
  info.classes = models::default_class_names("facade-net", options);
  info.class_colors = colors;
  info.input = facade_input;
  info.preprocess = "{}";
  train::save_checkpoint(path, *model, info);
  return model;
}

// The model's scores [1, C, H, W] for an image file, normalised as the checkpoint says, computed here with the library.
std::vector<float> scores_of(nn::Module& model, const std::string& path, std::int64_t classes) {
  const data::Image image = data::decode_image(path);
  Tensor input = Tensor::from_vector(image.pixels, {1, 3, image.height, image.width});
  data::normalize(input, facade_input);
  model.eval();
  const NoGradGuard no_grad;
  const Tensor scores = model.forward(input);
  REQUIRE(scores.shape() == Shape{1, classes, image.height, image.width});
  return scores.to_vector();
}

// Checks that the mask file colours every pixel of `image` with the model's best class (within float noise of the
// best score, in case two classes tie to rounding), returns the labels it shows.
data::Mask check_mask(nn::Module& model, const std::string& image, const fs::path& mask_path,
                      const std::vector<Rgb>& colors) {
  const data::ImageBytes mask = data::decode_image_bytes(mask_path.string());
  const data::Image decoded = data::decode_image(image);
  REQUIRE(mask.channels == 3);
  REQUIRE(mask.height == decoded.height);
  REQUIRE(mask.width == decoded.width);
  const auto classes = static_cast<std::int64_t>(colors.size());
  const std::vector<float> scores = scores_of(model, image, classes);
  const std::int64_t plane = mask.height * mask.width;
  data::Mask labels{mask.height, mask.width, {}};
  for (std::int64_t p = 0; p < plane; ++p) {
    const Rgb color{mask.samples[static_cast<std::size_t>(3 * p)], mask.samples[static_cast<std::size_t>(3 * p + 1)],
                    mask.samples[static_cast<std::size_t>(3 * p + 2)]};
    const auto label = std::find(colors.begin(), colors.end(), color) - colors.begin();
    REQUIRE(label < classes);
    float best = scores[static_cast<std::size_t>(p)];
    for (std::int64_t c = 1; c < classes; ++c) best = std::max(best, scores[static_cast<std::size_t>(c * plane + p)]);
    CHECK(scores[static_cast<std::size_t>(label * plane + p)] >= best - 1e-5f);
    labels.labels.push_back(static_cast<std::int32_t>(label));
  }
  return labels;
}

}  // namespace

TEST_CASE("segment: writes each image's mask in the checkpoint's colours and its overlay, keeping the folder layout",
          "[segment]") {
  test::TemporaryFolder folder("kiln_segment_folder");
  const std::string checkpoint = (folder / "model.safetensors").string();
  const std::shared_ptr<nn::Module> model = save_facade_checkpoint(checkpoint, 3, three_colors);
  // Sorted: a and sub/b share a size (one batch), sub/c.bmp has another; broken.png and notes.txt are skipped.
  test::write_png(folder / "images/a.png", test::pattern(12, 10, 3, 1));
  test::write_text(folder / "images/broken.png", "not a PNG at all");
  test::write_text(folder / "images/notes.txt", "hello");
  test::write_png(folder / "images/sub/b.png", test::pattern(12, 10, 3, 2));
  test::write_bmp(folder / "images/sub/c.bmp", test::pattern(7, 9, 3, 3));
  const fs::path out = folder / "out";

  const test::Run run = run_segment({"--checkpoint", checkpoint, "--input", (folder / "images").string(), "--out",
                                     out.string(), "--batch", "2", "--alpha", "0.25", "--device", "cpu"});
  INFO(run.output << run.errors);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.errors, Contains("kiln segment: skipped " + (folder / "images/broken.png").string() + ": ") &&
                             Contains("kiln segment: skipped " + (folder / "images/notes.txt").string() + ": "));
  CHECK_THAT(run.output, Contains("3 image(s) written") && Contains("2 skipped") && Contains("images/s"));

  std::set<std::int32_t> seen;
  for (const std::string name : {"a", "sub/b", "sub/c"}) {
    const std::string image = (folder / "images" / name).string() + (name == "sub/c" ? ".bmp" : ".png");
    const data::Mask labels = check_mask(*model, image, out / (name + ".png"), three_colors);
    seen.insert(labels.labels.begin(), labels.labels.end());
    // The overlay: the image under the mask's colours with weight 0.25.
    data::ClassList classes;
    for (const Rgb& color : three_colors) classes.push_back({"", color});
    const data::ImageBytes expected =
        data::overlay_mask(data::decode_image(image), data::colorize_mask(labels, classes), 0.25f);
    const data::ImageBytes overlay = data::decode_image_bytes((out / (name + ".overlay.png")).string());
    CHECK(overlay.channels == 3);
    CHECK(overlay.samples == expected.samples);
  }
  CHECK(seen.size() > 1);  // the seeded weights label pixels differently, so that the colours are tested
  CHECK_FALSE(fs::exists(out / "broken.png"));
}

TEST_CASE("segment: one image, with a checkpoint that records no colours, gets the default palette", "[segment]") {
  test::TemporaryFolder folder("kiln_segment_file");
  const std::string checkpoint = (folder / "model.safetensors").string();
  const std::shared_ptr<nn::Module> model = save_facade_checkpoint(checkpoint, 5, {});
  const std::string image = (folder / "facade.jpg").string();
  test::write_jpeg(image, test::pattern(11, 8, 3, 4));
  const fs::path out = folder / "masks";

  const test::Run run =
      run_segment({"--checkpoint", checkpoint, "--input", image, "--out", out.string(), "--device", "cpu"});
  INFO(run.output << run.errors);
  REQUIRE(run.exit_code == 0);
  check_mask(*model, image, out / "facade.png", data::default_class_colors(5));
  CHECK(fs::exists(out / "facade.overlay.png"));
}

TEST_CASE("segment: refuses a classifier, a missing flag, an --out that is a file and inputs that cannot be read",
          "[segment]") {
  test::TemporaryFolder folder("kiln_segment_errors");
  const std::string segmenter = (folder / "facade.safetensors").string();
  save_facade_checkpoint(segmenter, 3, three_colors);
  const std::string classifier = (folder / "fmnist.safetensors").string();
  Generator generator(1);
  train::CheckpointInfo info;
  info.model = "fmnist-small";
  info.classes = data::fashion_mnist_classes();
  info.input = {{0.3}, {0.4}};
  train::save_checkpoint(classifier, *models::make_model("fmnist-small", generator), info);
  const std::string image = (folder / "a.png").string();
  test::write_png(image, test::pattern(8, 8, 3, 1));
  const std::string broken = (folder / "broken.png").string();
  test::write_text(broken, "not a PNG at all");
  const std::string out = (folder / "out").string();

  using Case = std::tuple<std::vector<std::string>, int, std::string>;
  const auto [words, exit_code, message] = GENERATE_COPY(
      Case{{"--checkpoint", classifier, "--input", image, "--out", out}, 1,
           "checkpoint '" + classifier + "' holds fmnist-small, a classification model"},
      Case{{"--checkpoint", classifier, "--input", image, "--out", out}, 1, "kiln predict"},
      Case{{"--checkpoint", segmenter, "--out", out}, 2, "missing required flag --input"},
      Case{{"--checkpoint", segmenter, "--input", image}, 2, "missing required flag --out"},
      Case{{"--checkpoint", segmenter, "--input", image, "--out", image}, 1, "--out " + image + ": a file"},
      Case{{"--checkpoint", segmenter, "--input", image, "--out", out, "--alpha", "2"}, 2, "--alpha"},
      Case{{"--checkpoint", segmenter, "--input", broken, "--out", out}, 1,
           "--input " + broken + ": no image could be read (1 skipped)"});
  std::vector<std::string> arguments = words;
  arguments.insert(arguments.end(), {"--device", "cpu"});
  const test::Run run = run_segment(arguments);
  INFO(run.output << run.errors);
  CHECK(run.exit_code == exit_code);
  CHECK_THAT(run.errors, Contains(message));
}

TEST_CASE("segment: two images that would write the same files are an error naming both", "[segment]") {
  test::TemporaryFolder folder("kiln_segment_clash");
  const std::string checkpoint = (folder / "model.safetensors").string();
  save_facade_checkpoint(checkpoint, 3, three_colors);
  test::write_png(folder / "images/a.png", test::pattern(8, 8, 3, 1));
  test::write_bmp(folder / "images/a.bmp", test::pattern(8, 8, 3, 2));
  const test::Run run = run_segment({"--checkpoint", checkpoint, "--input", (folder / "images").string(), "--out",
                                     (folder / "out").string(), "--device", "cpu"});
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.errors, Contains((folder / "images/a.bmp").string() + " and " +
                                  (folder / "images/a.png").string() + " would both write"));
}
