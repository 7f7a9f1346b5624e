#pragma once
// The command-line flags for model options, generated from the model families' option specs (kiln/models/family.h)
// and shared by the subcommands that build a model: --depth/-d, --conv1x1/-c11, --image-size/-i, ...
#include <string>
#include <vector>

#include "kiln/models/options.h"
#include "tools/cli.h"

namespace kiln::tools {

// The flags, without defaults: an absent flag leaves the model's own default (shown by kiln info). Switches for the
// true|false options.
std::vector<cli::Option> model_flags();

// The options given on the command line, by model option key (switches become "true"); the model checks values.
models::ModelOptions model_options_from(const cli::Arguments& arguments);

// "the model: fmnist-small, fmnist-bn, roomnet, vgg": the --model flag's help, from the registry.
std::string model_flag_help();

}  // namespace kiln::tools
