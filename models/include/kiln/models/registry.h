#pragma once
// Models by name and options, so that programs and checkpoints can name the net they build.
#include <memory>
#include <string>
#include <vector>

#include "kiln/models/layer_table.h"
#include "kiln/models/options.h"
#include "kiln/nn/module.h"

namespace kiln::models {

// "fmnist-small", "fmnist-bn", "roomnet", "vgg"
std::vector<std::string> model_names();

// A freshly initialised model drawing its weights from `generator`; an unknown name throws kiln::Error listing the
// valid ones, an option the model does not have or a bad value throws naming it.
std::shared_ptr<nn::Module> make_model(const std::string& name, Generator& generator);
std::shared_ptr<nn::Module> make_model(const std::string& name, const ModelOptions& options, Generator& generator);

// The options a model reads, with their defaults (empty for the Fashion-MNIST nets).
const std::vector<ModelOptionSpec>& model_option_specs(const std::string& name);

// The layer table for the options, computed without building the model. Throws like make_model on a bad option.
LayerTable describe_model(const std::string& name, const ModelOptions& options);

// The generator a model draws from while it trains (dropout masks), which checkpoints save so that a resumed run draws
// what an uninterrupted one would; nullptr for models that draw nothing.
Generator* training_generator(nn::Module& model);

}  // namespace kiln::models
