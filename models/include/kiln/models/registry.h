#pragma once
// The model families by name, so that programs and checkpoints can name the net they build. A family is registered by
// one line in models/registry.cpp.
#include <memory>
#include <string>
#include <vector>

#include "kiln/models/family.h"

namespace kiln::models {

// In registration order: "fmnist-small", "fmnist-bn", "roomnet", "vgg".
const std::vector<ModelFamily>& model_families();
// Throws kiln::Error listing the valid names when `name` is unknown.
const ModelFamily& model_family(const std::string& name);
std::vector<std::string> model_names();
// "fmnist-small, fmnist-bn, roomnet, vgg": for help texts and errors.
std::string model_list();

// A freshly initialised model drawing its weights from `generator`; an unknown name throws kiln::Error listing the
// valid ones, an option the model does not have or a bad value throws naming it.
std::shared_ptr<nn::Module> make_model(const std::string& name, Generator& generator);
std::shared_ptr<nn::Module> make_model(const std::string& name, const ModelOptions& options, Generator& generator);

// The options a model reads, with their defaults (empty for the Fashion-MNIST nets).
const std::vector<ModelOptionSpec>& model_option_specs(const std::string& name);

// The layer table for the options, computed without building the model. Throws like make_model on a bad option.
LayerTable describe_model(const std::string& name, const ModelOptions& options);

// The model's input format for the options.
InputFormat model_input(const std::string& name, const ModelOptions& options);

// The family's class names for the options, else "0", "1", ... for its "classes" option.
std::vector<std::string> default_class_names(const std::string& name, const ModelOptions& options);

// Loads the pretrained encoder weights in `path` into `model`, built by the family `name` (FCN: a torchvision VGG-16
// state dict, kiln --encoder-weights). Throws kiln::Error when the family has no such encoder, or naming the file and
// the tensor when one is missing or mis-shaped.
void load_encoder_weights(const std::string& name, nn::Module& model, const std::string& path);

}  // namespace kiln::models
