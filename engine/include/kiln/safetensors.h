#pragma once
// Reading and writing the safetensors format: 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the raw little-endian data. Writes are atomic (temporary file + rename).
// Loading validates the whole header (sizes, offsets, dtypes) before reading data and throws kiln::Error naming the
// file and the problem.
#include <map>
#include <string>
#include <vector>

#include "kiln/tensor.h"

namespace kiln {

struct SafetensorsFile {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in header order, on the CPU
  std::map<std::string, std::string> metadata;          // "__metadata__"
  // Names of tensors whose dtype kiln cannot hold (e.g. PyTorch's I64 num_batches_tracked): checked, not loaded.
  std::vector<std::string> skipped;
  const Tensor& at(const std::string& name) const;  // throws naming the missing tensor
  bool contains(const std::string& name) const;
};

SafetensorsFile load_safetensors(const std::string& path);
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace kiln
