#include <catch2/catch.hpp>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "kiln/data/idx.h"

using namespace kiln;

namespace {

std::vector<std::uint8_t> idx_bytes(std::uint32_t magic, std::vector<std::uint32_t> sizes, std::size_t payload) {
  std::vector<std::uint8_t> bytes;
  const auto put = [&](std::uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(value >> shift));
  };
  put(magic);
  for (const std::uint32_t size : sizes) put(size);
  for (std::size_t i = 0; i < payload; ++i) bytes.push_back(static_cast<std::uint8_t>(i % 10));
  return bytes;
}

struct Folder {
  Folder() : path(std::filesystem::temp_directory_path() / ("kiln-idx-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path);
  }
  ~Folder() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::vector<std::uint8_t>& bytes, bool gzip) const {
    const std::string file = (path / name).string();
    if (gzip) {
      gzFile out = gzopen(file.c_str(), "wb");
      gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size()));
      gzclose(out);
    } else {
      std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                  static_cast<std::streamsize>(bytes.size()));
    }
    return file;
  }
  std::filesystem::path path;
};

}  // namespace

TEST_CASE("idx: reads gzip'd and plain images and labels", "[data]") {
  Folder folder;
  const auto images = data::read_idx_images(folder.write("i.gz", idx_bytes(0x803, {3, 2, 4}, 24), true));
  CHECK(images.count == 3);
  CHECK(images.rows == 2);
  CHECK(images.cols == 4);
  CHECK(images.pixels[13] == 3);
  CHECK(data::read_idx_labels(folder.write("l", idx_bytes(0x801, {5}, 5), false)) ==
        std::vector<std::int32_t>{0, 1, 2, 3, 4});
}

TEST_CASE("idx: corrupt files are rejected naming the file and the problem", "[data]") {
  Folder folder;
  const std::string truncated = folder.write("t.gz", idx_bytes(0x803, {3, 2, 4}, 20), true);
  CHECK_THROWS_WITH(data::read_idx_images(truncated), Catch::Contains(truncated) && Catch::Contains("truncated"));
  const std::string trailing = folder.write("x", idx_bytes(0x801, {2}, 3), false);
  CHECK_THROWS_WITH(data::read_idx_labels(trailing), Catch::Contains("trailing"));
  const std::string wrong_magic = folder.write("m", idx_bytes(0x801, {2}, 2), false);
  CHECK_THROWS_WITH(data::read_idx_images(wrong_magic), Catch::Contains(wrong_magic) && Catch::Contains("magic"));
  const std::string huge = folder.write("h", idx_bytes(0x803, {60000, 60000, 60000}, 4), false);
  CHECK_THROWS_WITH(data::read_idx_images(huge), Catch::Contains("implausibly large"));
  const std::string short_file = folder.write("s", {0, 0, 8, 1, 0, 0}, false);
  CHECK_THROWS_WITH(data::read_idx_labels(short_file), Catch::Contains("too short"));
  std::vector<std::uint8_t> gzip_garbage = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef};
  const std::string garbage = folder.write("g.gz", gzip_garbage, false);
  CHECK_THROWS_AS(data::read_idx_labels(garbage), Error);
  CHECK_THROWS_WITH(data::read_idx_labels((folder.path / "missing").string()), Catch::Contains("no such file"));
}

TEST_CASE("idx: Fashion-MNIST images and labels must agree", "[data]") {
  Folder folder;
  folder.write("train-images-idx3-ubyte.gz", idx_bytes(0x803, {3, 28, 28}, 3 * 28 * 28), true);
  folder.write("train-labels-idx1-ubyte.gz", idx_bytes(0x801, {2}, 2), true);
  CHECK_THROWS_WITH(data::load_fashion_mnist(folder.path.string(), true),
                    Catch::Contains("3 images") && Catch::Contains("2 labels"));
  folder.write("train-labels-idx1-ubyte.gz", idx_bytes(0x801, {3}, 3), true);
  const auto set = data::load_fashion_mnist(folder.path.string(), true);
  CHECK(set.images.shape() == Shape{3, 1, 28, 28});
  CHECK(set.labels.to_vector() == std::vector<float>{0, 1, 2});
  CHECK(set.images.to_vector()[1] == Approx(1.0f / 255));
  CHECK_THROWS_WITH(data::load_fashion_mnist("/nonexistent-kiln", true), Catch::Contains("/nonexistent-kiln"));
}

TEST_CASE("idx: the Debian Fashion-MNIST files load when installed", "[data]") {
  if (!std::filesystem::exists(std::string(data::fashion_mnist_default_folder) + "/t10k-labels-idx1-ubyte.gz")) {
    WARN("dataset-fashion-mnist not installed; skipping");
    return;
  }
  const auto test = data::load_fashion_mnist(data::fashion_mnist_default_folder, false);
  CHECK(test.images.shape() == Shape{10000, 1, 28, 28});
  CHECK(test.labels.numel() == 10000);
}
