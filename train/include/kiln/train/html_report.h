#pragma once
// The self-contained HTML report of a run: loss and accuracy curves per epoch, per-class F1 bars and a confusion
// heat map (all inline SVG), and a grid of the most confident mistakes (inline PNG). It needs no network to open.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/data/dataset.h"
#include "kiln/tensor.h"
#include "kiln/train/evaluation.h"

namespace kiln::train {

// One line of the trainer's log.jsonl.
struct EpochRecord {
  std::int64_t epoch = 0;
  double train_loss = 0, train_accuracy = 0, val_loss = 0, val_accuracy = 0;
};

// The records of a log.jsonl in epoch order, the last line of an epoch winning (a resumed run may repeat one). A
// missing file gives no records; a malformed line is an error naming the file and the line.
std::vector<EpochRecord> read_training_log(const std::string& path);

struct ReportContent {
  std::string title;      // e.g. "fmnist-bn after epoch 12"
  std::string subtitle;   // e.g. the checkpoint and the evaluated set
  std::vector<EpochRecord> epochs;
  ClassificationReport evaluation;  // with its predictions, in the order of `images`
  // The evaluated images as the model's input before normalisation: float [N, C, H, W] in [0, 1], C 1 or 3.
  // Undefined: no grid of mistakes.
  Tensor images;
  std::vector<std::int32_t> labels;  // the true class of each image
  // Segmentation reports: what the evaluated images were normalised with (to show them as they were) and each
  // class's colour (empty: data::default_class_colors).
  data::Normalization input;
  std::vector<std::array<std::uint8_t, 3>> class_colors;

  std::int64_t mistakes_shown = 60;
};

std::string render_html_report(const ReportContent& content);

}  // namespace kiln::train
