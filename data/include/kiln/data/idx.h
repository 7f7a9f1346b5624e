#pragma once
// The IDX format of (Fashion-)MNIST, gzip'd or plain: a big-endian magic (0x00000801 labels, 0x00000803 images),
// the dimension sizes, then unsigned bytes.
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/tensor.h"

namespace kiln::data {

struct IdxImages {
  std::int64_t count = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;  // count * rows * cols, row-major
};

// Throw kiln::Error naming the file and the problem: missing, not gzip/IDX, bad magic, sizes that do not match the
// bytes present (truncated or trailing data).
IdxImages read_idx_images(const std::string& path);
std::vector<std::int32_t> read_idx_labels(const std::string& path);

// A labelled image set in memory: images [N, C, H, W] float32 scaled to [0, 1], labels [N] int32.
struct LabelledImages {
  Tensor images;
  Tensor labels;
  std::vector<std::string> classes;
};

// Fashion-MNIST from a folder holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (Debian:
// /usr/share/datasets/fashion-mnist). Checks that images and labels agree in count and labels lie in 0..9.
LabelledImages load_fashion_mnist(const std::string& folder, bool train_split);
extern const char* const fashion_mnist_default_folder;
std::vector<std::string> fashion_mnist_classes();

}  // namespace kiln::data
