#pragma once
// The command-line flags for model options, in one table shared by the subcommands that build a model (kiln info; train
// and predict can add the same flags): --depth/-d, --conv1x1/-c11, --image-size/-i, ...
#include <vector>

#include "kiln/models/options.h"
#include "tools/cli.h"

namespace kiln::tools {

// The flags, without defaults: an absent flag leaves the model's own default (shown by kiln info).
std::vector<cli::Option> model_flags();

// The options given on the command line, by model option key (switches become "true"); the model checks values.
models::ModelOptions model_options_from(const cli::Arguments& arguments);

}  // namespace kiln::tools
