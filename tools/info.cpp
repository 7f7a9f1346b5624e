// kiln info: a model's layers with output shapes, its parameter count and multiply-accumulates per image.
#include <iostream>

#include "kiln/models/registry.h"
#include "tools/commands.h"
#include "tools/model_flags.h"

namespace kiln::tools {

namespace {

int run_info(const cli::Arguments& arguments) {
  const std::string name = arguments.text("--model");
  const models::ModelOptions given = model_options_from(arguments);
  // Checked (by describing) before anything is printed.
  const models::LayerTable table = models::describe_model(name, given);
  std::cout << "model " << name;
  for (const auto& [key, value] : models::with_defaults(models::model_option_specs(name), given)) {
    std::cout << " " << key << "=" << value;
  }
  std::cout << "\n";
  std::cout << table.format();
  return 0;
}

}  // namespace

cli::Command info_command() {
  std::vector<cli::Option> options = {
      {"--model", {}, "NAME", "the model: fmnist-small, fmnist-bn, roomnet or vgg", ""},
  };
  for (cli::Option& flag : model_flags()) options.push_back(std::move(flag));
  return cli::Command("info",
                      "print a model's layer table, parameter count and "
                      "multiply-accumulates per image",
                      std::move(options), run_info);
}

}  // namespace kiln::tools
