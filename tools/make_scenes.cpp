// kiln make-scenes: a generated segmentation set in kiln/data/segmentation_set.h's layout, for demos and tests
// (Debian ships none): Fashion-MNIST items on textured canvases, each item's pixels labelled with its class + 1 and
// the canvas 0.
#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <numbers>

#include "kiln/atomic_file.h"
#include "kiln/data/idx.h"
#include "kiln/data/image.h"
#include "kiln/data/image_bytes.h"
#include "kiln/data/segmentation_set.h"
#include "kiln/random.h"
#include "tools/commands.h"

namespace kiln::tools {

namespace {

namespace fs = std::filesystem;

constexpr float label_threshold = 0.15f;  // an item pixel at least this bright is labelled with the item's class

data::ClassList scene_classes() {
  static constexpr std::array<std::array<std::uint8_t, 3>, 10> colours = {{{31, 119, 180},
                                                                           {255, 127, 14},
                                                                           {44, 160, 44},
                                                                           {214, 39, 40},
                                                                           {148, 103, 189},
                                                                           {140, 86, 75},
                                                                           {227, 119, 194},
                                                                           {127, 127, 127},
                                                                           {188, 189, 34},
                                                                           {23, 190, 207}}};
  data::ClassList classes = {{"background", {0, 0, 0}}};
  const std::vector<std::string> names = data::fashion_mnist_classes();
  for (std::size_t i = 0; i < names.size(); ++i) classes.push_back({names[i], colours[i]});
  return classes;
}

struct Scene {
  data::Image image;  // [3, size, size] in [0, 1]
  data::Mask mask;
};

std::array<float, 3> random_colour(Generator& generator) {
  std::array<float, 3> colour{};
  for (float& channel : colour) channel = static_cast<float>(generator.uniform());
  return colour;
}

// Stripes between two random colours at a random angle and period, with per-pixel noise.
void paint_canvas(Scene& scene, Generator& generator) {
  const std::int64_t size = scene.image.height, plane = size * size;
  const std::array<float, 3> first = random_colour(generator), second = random_colour(generator);
  const double angle = std::numbers::pi * generator.uniform(), period = 6.0 + 18.0 * generator.uniform();
  const double cos_angle = std::cos(angle), sin_angle = std::sin(angle);
  for (std::int64_t y = 0; y < size; ++y) {
    for (std::int64_t x = 0; x < size; ++x) {
      const double along = static_cast<double>(x) * cos_angle + static_cast<double>(y) * sin_angle;
      const double phase = 2 * std::numbers::pi * along / period;
      const auto mix = static_cast<float>(0.5 + 0.5 * std::sin(phase));
      const auto noise = static_cast<float>(0.12 * (generator.uniform() - 0.5));
      for (std::int64_t c = 0; c < 3; ++c) {
        const auto channel = static_cast<std::size_t>(c);
        scene.image.pixels[static_cast<std::size_t>(c * plane + y * size + x)] =
            std::clamp(first[channel] * (1 - mix) + second[channel] * mix + noise, 0.0f, 1.0f);
      }
    }
  }
}

// Item `index` of `items`, resized to a random side, tinted with a random colour and laid at a random position on
// top of what is there.
void place_item(Scene& scene, const data::LabelledImages& items, std::int64_t index, Generator& generator) {
  const std::int64_t size = scene.image.height, plane = size * size;
  const std::int64_t rows = items.images.size(2), cols = items.images.size(3);
  const float* source = items.images.data<float>() + index * rows * cols;
  data::Image item{rows, cols, {}};
  for (int c = 0; c < 3; ++c) item.pixels.insert(item.pixels.end(), source, source + rows * cols);
  const std::int64_t smallest = std::min<std::int64_t>(size, std::max<std::int64_t>(14, size / 4));
  const std::int64_t largest = std::max(smallest, size / 2);
  const std::int64_t side =
      smallest + static_cast<std::int64_t>(generator.below(static_cast<std::uint64_t>(largest - smallest + 1)));
  const data::Image resized = data::resize_image(item, side, side);
  const auto top = static_cast<std::int64_t>(generator.below(static_cast<std::uint64_t>(size - side + 1)));
  const auto left = static_cast<std::int64_t>(generator.below(static_cast<std::uint64_t>(size - side + 1)));
  const std::array<float, 3> colour = random_colour(generator);
  const std::int32_t label = items.labels.data<std::int32_t>()[index] + 1;
  for (std::int64_t y = 0; y < side; ++y) {
    for (std::int64_t x = 0; x < side; ++x) {
      const float value = resized.pixels[static_cast<std::size_t>(y * side + x)];
      const float alpha = std::min(1.0f, value / label_threshold);  // soft edges below the threshold
      const std::int64_t pixel = (top + y) * size + left + x;
      for (std::int64_t c = 0; c < 3; ++c) {
        float& out = scene.image.pixels[static_cast<std::size_t>(c * plane + pixel)];
        out = out * (1 - alpha) + colour[static_cast<std::size_t>(c)] * (0.4f + 0.6f * value) * alpha;
      }
      if (value >= label_threshold) scene.mask.labels[static_cast<std::size_t>(pixel)] = label;
    }
  }
}

// Scene `index` draws from its own counter range, so that it does not depend on how many scenes are made.
Scene make_scene(const data::LabelledImages& items, std::int64_t size, std::uint64_t seed, std::int64_t index) {
  Generator generator;
  generator.set_state({seed, static_cast<std::uint64_t>(index) << 32});
  Scene scene{{size, size, std::vector<float>(static_cast<std::size_t>(3 * size * size))},
              {size, size, std::vector<std::int32_t>(static_cast<std::size_t>(size * size), 0)}};
  paint_canvas(scene, generator);
  const std::uint64_t count = 1 + generator.below(3);
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto item = static_cast<std::int64_t>(generator.below(static_cast<std::uint64_t>(items.images.size(0))));
    place_item(scene, items, item, generator);
  }
  return scene;
}

void write_scene(const Scene& scene, const fs::path& image_path, const fs::path& mask_path) {
  const std::int64_t plane = scene.image.height * scene.image.width;
  data::ImageBytes image{scene.image.height, scene.image.width, 3,
                         std::vector<std::uint8_t>(static_cast<std::size_t>(3 * plane))};
  for (std::int64_t p = 0; p < plane; ++p) {
    for (std::int64_t c = 0; c < 3; ++c) {
      image.samples[static_cast<std::size_t>(p * 3 + c)] =
          static_cast<std::uint8_t>(std::lround(scene.image.pixels[static_cast<std::size_t>(c * plane + p)] * 255));
    }
  }
  data::ImageBytes mask{scene.mask.height, scene.mask.width, 1, {}};
  mask.samples.assign(scene.mask.labels.begin(), scene.mask.labels.end());
  data::write_png(image_path.string(), image, "scene image");
  data::write_png(mask_path.string(), mask, "scene mask");
}

int run_make_scenes(const cli::Arguments& arguments) {
  const fs::path out = arguments.text("--out");
  const auto count = arguments.integer("--count", 1, 1000000);
  const auto size = arguments.integer("--size", 28, 4096);
  const auto seed = static_cast<std::uint64_t>(arguments.integer("--seed", 0, std::numeric_limits<long long>::max()));
  // A set is written whole into a fresh folder: mixing it with an earlier one would leave stale pairs.
  KILN_CHECK(!fs::exists(out) || (fs::is_directory(out) && fs::is_empty(out)), out.string(),
             ": exists and is not an empty folder; make-scenes writes into a new or empty folder");
  const data::LabelledImages items = data::load_fashion_mnist(arguments.text("--data"), false);
  fs::create_directories(out / "images");
  fs::create_directories(out / "masks");
  write_file_atomically((out / "classes.json").string(), data::format_class_list(scene_classes()), "class list");
  const std::size_t digits = std::max<std::size_t>(4, std::to_string(count - 1).size());
  for (long long i = 0; i < count; ++i) {
    std::string name = std::to_string(i);
    name = "scene_" + std::string(digits - name.size(), '0') + name + ".png";
    write_scene(make_scene(items, size, seed, i), out / "images" / name, out / "masks" / name);
  }
  std::cout << "wrote " << count << " scenes of " << size << "x" << size << " to " << out.string()
            << " (images/, masks/ with labels 0 background and 1-10 the Fashion-MNIST classes, classes.json)\n";
  return 0;
}

}  // namespace

cli::Command make_scenes_command() {
  return cli::Command(
      "make-scenes",
      "write a generated segmentation set: Fashion-MNIST items on textured canvases, with index masks",
      {
          {"--out", {}, "DIR", "the new folder: images/, masks/ (same names) and classes.json", ""},
          {"--count", {}, "N", "number of scenes", "200"},
          {"--size", {}, "S", "scene side in pixels", "96"},
          {"--seed", {}, "S", "the seed of every draw; the same seed writes the same files", "0"},
          {"--data", {}, "DIR", "Fashion-MNIST folder (its test split is used)", data::fashion_mnist_default_folder},
      },
      run_make_scenes);
}

}  // namespace kiln::tools
