#pragma once
// What kiln predict feeds a model: the image transform (size, crop, normalisation) and the channel count, from a
// checkpoint's metadata or from the model options and normalisation given on the command line.
#include <cstdint>
#include <string>

#include "kiln/data/image_transform.h"
#include "kiln/models/options.h"
#include "kiln/tensor.h"
#include "kiln/train/checkpoint.h"

namespace kiln::tools {

struct InputFormat {
  // Decodes to 3 normalised planes. For a gray model the normalisation is its one channel's, repeated.
  data::ImageTransform transform;
  // 1 (the Fashion-MNIST nets): the planes are then reduced to their luminance by to_model_channels.
  std::int64_t channels = 3;
};

// The model family's input format for the options (models::model_input: channels, size, crop) with `normalization`,
// which has one entry per channel the model reads. Throws naming the model when the normalisation does not fit.
InputFormat input_format(const std::string& model, const models::ModelOptions& options,
                         const data::Normalization& normalization);

// A checkpoint's: the preprocessing it records (models trained on image files, train/preprocess.h), else (the
// Fashion-MNIST nets, trained on tensors) the above from its model, options and input normalisation.
InputFormat input_format(const train::CheckpointInfo& info);

// Decoded batches [N, 3, H, W] -> [N, channels, H, W]: unchanged for RGB models; for gray ones the Rec. 601 luminance
// 0.299 R + 0.587 G + 0.114 B. The weights sum to 1, so the luminance of normalised planes is the normalised
// luminance. Fashion-MNIST images are light garments on black: other photos need inverting first.
Tensor to_model_channels(const Tensor& images, const InputFormat& format);

}  // namespace kiln::tools
