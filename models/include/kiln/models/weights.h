#pragma once
// Loading a state dict saved elsewhere (torchvision's VGG, a kiln checkpoint) into a model by dotted name.
#include <string>

#include "kiln/nn/module.h"
#include "kiln/safetensors.h"

namespace kiln::models {

// Copies every parameter and buffer of `model` from the tensor of the same name in `file`, converting the dtype and
// keeping the model's device. All-or-nothing: a missing or mis-shaped tensor, or a tensor the model does not have,
// throws kiln::Error naming it and `source` before anything is copied. Only PyTorch's batch-norm counters
// (`*.num_batches_tracked`), which kiln does not keep, are ignored.
void load_state_dict(nn::Module& model, const SafetensorsFile& file, const std::string& source);

// load_state_dict from a safetensors file.
void load_weights(nn::Module& model, const std::string& path);

}  // namespace kiln::models
