#pragma once
// Models by name, so that programs and checkpoints can name the net they build.
#include <memory>
#include <string>
#include <vector>

#include "kiln/nn/module.h"

namespace kiln::models {

// "fmnist-small", "fmnist-bn", ...
std::vector<std::string> model_names();

// A freshly initialised model drawing its weights from `generator`; an unknown name throws kiln::Error listing the
// valid ones.
std::shared_ptr<nn::Module> make_model(const std::string& name, Generator& generator);

// The generator a model draws from while it trains (fmnist-bn's dropout masks), which checkpoints save so that a
// resumed run draws what an uninterrupted one would; nullptr for models that draw nothing.
Generator* training_generator(nn::Module& model);

}  // namespace kiln::models
