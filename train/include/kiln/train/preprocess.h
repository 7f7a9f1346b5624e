#pragma once
// How a model trained on image files expects its inputs, saved in its checkpoints (metadata "preprocess", JSON
// {"image_size", "square_crop", "normalize"}; the per-channel values are "input_mean"/"input_std") so that
// prediction prepares an image exactly as training did, minus the augmentation.
#include <cstdint>
#include <optional>
#include <string>

#include "kiln/data/image_transform.h"
#include "kiln/train/checkpoint.h"

namespace kiln::train {

struct Preprocess {
  std::int64_t image_size = 224;  // square side the image is resized to
  bool square_crop = false;       // centre square of the longer side first (RoomNet)
  std::string normalize;          // the preset's name or "computed" (what the stored mean/std came from)
};

std::string to_json(const Preprocess& preprocess);

// The checkpoint's preprocessing; none for models trained on in-memory tensors (Fashion-MNIST), whose checkpoints
// have no "preprocess" entry. Throws naming the entry when it is malformed.
std::optional<Preprocess> read_preprocess(const CheckpointInfo& info);

// The transform that feeds one image to the checkpoint's model: square crop, resize, normalisation with
// `info.input`, no augmentation. Throws when the checkpoint records no image preprocessing.
data::ImageTransform inference_transform(const CheckpointInfo& info);

}  // namespace kiln::train
