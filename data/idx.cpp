#include "kiln/data/idx.h"

#include <zlib.h>

#include <filesystem>

namespace kiln::data {

const char* const fashion_mnist_default_folder = "/usr/share/datasets/fashion-mnist";

namespace {

constexpr std::uint32_t labels_magic = 0x00000801;
constexpr std::uint32_t images_magic = 0x00000803;
// No IDX file kiln reads is near this; a larger declared size means a corrupt header, not a request for memory.
constexpr std::uint64_t max_payload_bytes = std::uint64_t(1) << 32;

// Reads the whole (possibly gzip'd; zlib reads plain files transparently) file.
std::vector<std::uint8_t> read_all(const std::string& path) {
  KILN_CHECK(std::filesystem::is_regular_file(path), path, ": no such file");
  gzFile file = gzopen(path.c_str(), "rb");
  KILN_CHECK(file != nullptr, path, ": cannot open");
  std::vector<std::uint8_t> bytes;
  std::uint8_t buffer[1 << 16];
  for (;;) {
    const int got = gzread(file, buffer, sizeof buffer);
    if (got < 0) {
      int code = 0;
      const std::string message = gzerror(file, &code);
      gzclose(file);
      fail(path, ": corrupt gzip data (", message, ")");
    }
    if (got == 0) break;
    bytes.insert(bytes.end(), buffer, buffer + got);
    KILN_CHECK(bytes.size() <= max_payload_bytes + 64, path, ": larger than any IDX file kiln accepts");
  }
  const int close_status = gzclose(file);
  KILN_CHECK(close_status == Z_OK, path, ": truncated or corrupt gzip stream");
  return bytes;
}

std::uint32_t big_endian(const std::vector<std::uint8_t>& bytes, std::size_t at) {
  return std::uint32_t(bytes[at]) << 24 | std::uint32_t(bytes[at + 1]) << 16 | std::uint32_t(bytes[at + 2]) << 8 |
         std::uint32_t(bytes[at + 3]);
}

// Checks the magic and that the declared sizes match the bytes present; returns the sizes.
std::vector<std::uint32_t> parse_header(const std::vector<std::uint8_t>& bytes, const std::string& path,
                                        std::uint32_t magic, const char* kind) {
  KILN_CHECK(bytes.size() >= 4, path, ": too short for an IDX ", kind, " header (", bytes.size(), " bytes)");
  const std::uint32_t found = big_endian(bytes, 0);
  KILN_CHECK(found == magic, path, ": bad magic 0x", std::hex, found, " (expected 0x", magic, " for IDX ", kind, ")");
  const std::size_t dims = magic & 0xff;
  const std::size_t header = 4 + 4 * dims;
  KILN_CHECK(bytes.size() >= header, path, ": too short for an IDX ", kind, " header (", bytes.size(), " bytes)");
  std::vector<std::uint32_t> sizes(dims);
  std::uint64_t payload = 1;
  for (std::size_t d = 0; d < dims; ++d) {
    sizes[d] = big_endian(bytes, 4 + 4 * d);
    payload *= sizes[d];
    KILN_CHECK(payload <= max_payload_bytes, path, ": declared sizes are implausibly large");
  }
  KILN_CHECK(bytes.size() - header == payload, path, ": header declares ", payload, " data bytes but the file holds ",
             bytes.size() - header, bytes.size() - header < payload ? " (truncated)" : " (trailing data)");
  return sizes;
}

}  // namespace

IdxImages read_idx_images(const std::string& path) {
  std::vector<std::uint8_t> bytes = read_all(path);
  const std::vector<std::uint32_t> sizes = parse_header(bytes, path, images_magic, "images");
  IdxImages images;
  images.count = sizes[0], images.rows = sizes[1], images.cols = sizes[2];
  images.pixels.assign(bytes.begin() + 16, bytes.end());
  return images;
}

std::vector<std::int32_t> read_idx_labels(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_all(path);
  parse_header(bytes, path, labels_magic, "labels");
  return std::vector<std::int32_t>(bytes.begin() + 8, bytes.end());
}

std::vector<std::string> fashion_mnist_classes() {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
}

LabelledImages load_fashion_mnist(const std::string& folder, bool train_split) {
  KILN_CHECK(std::filesystem::is_directory(folder), folder, ": no such folder (Fashion-MNIST; Debian package "
             "dataset-fashion-mnist installs it in ", fashion_mnist_default_folder, ")");
  const std::string prefix = folder + "/" + (train_split ? "train" : "t10k");
  const auto existing = [](const std::string& stem) {
    return std::filesystem::exists(stem + ".gz") || !std::filesystem::exists(stem) ? stem + ".gz" : stem;
  };
  const std::string images_path = existing(prefix + "-images-idx3-ubyte");
  const std::string labels_path = existing(prefix + "-labels-idx1-ubyte");
  const IdxImages images = read_idx_images(images_path);
  const std::vector<std::int32_t> labels = read_idx_labels(labels_path);
  KILN_CHECK(static_cast<std::int64_t>(labels.size()) == images.count, images_path, " holds ", images.count,
             " images but ", labels_path, " holds ", labels.size(), " labels");
  const auto classes = fashion_mnist_classes();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    KILN_CHECK(labels[i] >= 0 && labels[i] < static_cast<std::int32_t>(classes.size()), labels_path, ": label ",
               labels[i], " at index ", i, " is not a Fashion-MNIST class (0..9)");
  }
  LabelledImages set;
  set.images = Tensor::empty({images.count, 1, images.rows, images.cols});
  float* out = set.images.data<float>();
  for (std::size_t i = 0; i < images.pixels.size(); ++i) out[i] = static_cast<float>(images.pixels[i]) / 255.0f;
  set.labels = Tensor::from_vector(labels, {images.count});
  set.classes = classes;
  return set;
}

}  // namespace kiln::data
