// The image pipeline alone: images per second through AsyncImageReader (decode, square crop, resize, flip,
// normalise, batch) at several decoder thread counts, on a generated folder of JPEG photos or a given folder.
// Prints a table, then the same as JSON (also written to --json FILE).
//   kiln_bench_image_pipeline [--folder DIR] [--images N] [--source-size WxH] [--image-size S] [--batch-size B]
//                             [--threads 1,2,4] [--epochs E] [--json FILE]
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kiln/data/async_reader.h"
#include "kiln/data/image_dataset.h"

namespace fs = std::filesystem;

namespace {

struct Options {
  std::string folder, json_path;
  int images = 512, source_width = 500, source_height = 375, image_size = 224, batch_size = 32, epochs = 2;
  std::vector<int> threads{1, 2, 4};
};

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> values;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) values.push_back(std::stoi(item));
  return values;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) kiln::fail(flag, ": expected a value (see the usage at the top of bench/image_pipeline.cpp)");
    const std::string value = argv[++i];
    if (flag == "--folder")
      options.folder = value;
    else if (flag == "--images")
      options.images = std::stoi(value);
    else if (flag == "--source-size") {
      const std::size_t x = value.find('x');
      KILN_CHECK(x != std::string::npos, "--source-size: expected WxH, got ", value);
      options.source_width = std::stoi(value.substr(0, x));
      options.source_height = std::stoi(value.substr(x + 1));
    } else if (flag == "--image-size")
      options.image_size = std::stoi(value);
    else if (flag == "--batch-size")
      options.batch_size = std::stoi(value);
    else if (flag == "--threads")
      options.threads = parse_list(value);
    else if (flag == "--epochs")
      options.epochs = std::stoi(value);
    else if (flag == "--json")
      options.json_path = value;
    else
      kiln::fail("unknown flag ", flag, " (see the usage at the top of bench/image_pipeline.cpp)");
  }
  return options;
}

// Photo-like content (smooth gradients with some texture), so that JPEG sizes and decode times are realistic.
void generate_folder(const fs::path& root, const Options& options) {
  const int width = options.source_width, height = options.source_height;
  std::vector<unsigned char> pixels(static_cast<std::size_t>(width * height * 3));
  for (int i = 0; i < options.images; ++i) {
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        for (int c = 0; c < 3; ++c) {
          const double wave = std::sin(0.02 * (x + 7 * i) * (c + 1)) + std::cos(0.03 * (y - 5 * i) + c);
          const unsigned noise = static_cast<unsigned>(x * 73 + y * 151 + c * 37 + i) * 2654435761u >> 28;
          pixels[static_cast<std::size_t>((y * width + x) * 3 + c)] =
              static_cast<unsigned char>(std::clamp(128.0 + 60.0 * wave + noise, 0.0, 255.0));
        }
      }
    }
    const fs::path path = root / ("class" + std::to_string(i % 4)) / (std::to_string(i) + ".jpg");
    fs::create_directories(path.parent_path());
    KILN_CHECK(stbi_write_jpg(path.c_str(), width, height, 3, pixels.data(), 90) != 0, path.string(), ": cannot write");
  }
}

}  // namespace

int main(int argc, char** argv) try {
  const Options options = parse(argc, argv);
  const fs::path generated = fs::temp_directory_path() / ("kiln_bench_images_" + std::to_string(::getpid()));
  const std::string folder = options.folder.empty() ? generated.string() : options.folder;
  if (options.folder.empty()) generate_folder(generated, options);

  kiln::data::ImageTransform transform;
  transform.height = transform.width = options.image_size;
  transform.square_crop = transform.random_square_offset = transform.horizontal_flip = true;
  transform.normalization = kiln::data::normalization_preset("[-1,1]");
  const auto dataset = std::make_shared<kiln::data::ImageDataset>(kiln::data::list_image_folder(folder), transform);

  // Batches land in page-locked memory when a GPU would receive them, as in training.
  const bool pinned = kiln::cuda_device_count() > 0;
  nlohmann::json results = nlohmann::json::array();
  std::printf("image pipeline: %lld images from %s, %dx%d output, batch %d, %d epoch(s), %u cores\n",
              static_cast<long long>(dataset->size()), options.folder.empty() ? "a generated folder" : folder.c_str(),
              options.image_size, options.image_size, options.batch_size, options.epochs,
              std::thread::hardware_concurrency());
  std::printf("%8s %12s %12s\n", "threads", "images/s", "ms/batch");
  for (const int threads : options.threads) {
    kiln::data::ReaderOptions reader_options;
    reader_options.threads = threads;
    reader_options.pin_memory = pinned;
    kiln::data::AsyncImageReader reader(dataset, reader_options);
    std::int64_t images = 0, batches = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int epoch = 0; epoch < options.epochs; ++epoch) {
      reader.start_epoch({kiln::data::shuffled_order(dataset->size(), 1, epoch), options.batch_size, epoch});
      while (const std::optional<kiln::data::Batch> batch = reader.next()) {
        images += batch->labels.size(0);
        ++batches;
      }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = static_cast<double>(images) / seconds;
    std::printf("%8d %12.1f %12.2f\n", threads, rate, 1000.0 * seconds / static_cast<double>(batches));
    results.push_back({{"threads", threads}, {"images_per_second", rate}, {"images", images}, {"seconds", seconds}});
  }
  const nlohmann::json report = {{"benchmark", "image_pipeline"},
                                 {"images", dataset->size()},
                                 {"source", options.folder.empty() ? "generated" : folder},
                                 {"source_size", {options.source_width, options.source_height}},
                                 {"image_size", options.image_size},
                                 {"batch_size", options.batch_size},
                                 {"epochs", options.epochs},
                                 {"cores", std::thread::hardware_concurrency()},
                                 {"pinned_memory", pinned},
                                 {"results", results}};
  std::cout << report.dump() << "\n";
  if (!options.json_path.empty()) std::ofstream(options.json_path) << report.dump(2) << "\n";
  if (options.folder.empty()) fs::remove_all(generated);
  return 0;
} catch (const std::exception& error) {
  std::cerr << "kiln_bench_image_pipeline: " << error.what() << "\n";
  return 1;
}
