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
  // Checked (by describing or building) before anything is printed.
  const std::optional<models::LayerTable> table = models::describe_model(name, given);
  std::int64_t parameters = 0;
  if (!table) {
    // Models without a layer plan are built to count their parameters.
    Generator generator(0);
    parameters = models::make_model(name, given, generator)->parameter_count();
  }
  std::cout << "model " << name;
  for (const auto& [key, value] : models::with_defaults(models::model_option_specs(name), given)) {
    std::cout << " " << key << "=" << value;
  }
  std::cout << "\n";
  if (table) {
    std::cout << table->format();
  } else {
    std::cout << "(no layer table for this model)\nparameters: " << parameters << "\n";
  }
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
