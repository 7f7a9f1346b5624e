#pragma once
// A model's layers for one input size: each layer's output shape per image, trainable parameters and
// multiply-accumulates per image, computed from the same plan that builds the model (nothing is allocated, so the
// 138M-parameter VGGs can be described cheaply).
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/shape.h"

namespace kiln::models {

struct LayerRow {
  std::string name;       // the module's dotted name ("features.0"), or the step's for parameter-free steps
  std::string operation;  // "conv 3x3 3->64 pad 1"
  Shape output;           // per image: [C, H, W] or [F]
  std::int64_t parameters = 0;
  std::int64_t multiply_accumulates = 0;  // convolutions and fully connected layers; pooling, norms, adds are free
};

struct LayerTable {
  Shape input;  // per image, [C, H, W]
  std::vector<LayerRow> rows;
  std::int64_t parameters() const;
  std::int64_t multiply_accumulates() const;
  // Aligned text: one line per layer, then "parameters: N" and "multiply-accumulates per image: N".
  std::string format() const;
};

}  // namespace kiln::models
