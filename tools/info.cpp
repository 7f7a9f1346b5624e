// kiln info: a model's task, input format, layers with output shapes, its parameter count and multiply-accumulates
// per image, all from its family (kiln/models/family.h).
#include <iostream>

#include "kiln/models/registry.h"
#include "tools/commands.h"
#include "tools/model_flags.h"

namespace kiln::tools {

namespace {

int run_info(const cli::Arguments& arguments) {
  const std::string name = arguments.text("--model");
  const models::ModelOptions given = model_options_from(arguments);
  const models::ModelFamily& family = models::model_family(name);
  // Checked (by describing) before anything is printed.
  const models::LayerTable table = models::describe_model(name, given);
  const models::InputFormat input = models::model_input(name, given);
  std::cout << "model " << name;
  for (const auto& [key, value] : models::with_defaults(family.options, given)) std::cout << " " << key << "=" << value;
  std::cout << "\n"
            << family.summary << "\ntask " << models::task_name(family.task) << "; input "
            << (input.channels == 1 ? "gray " : "RGB ") << input.image_size << "x" << input.image_size
            << (input.square_crop ? ", centre square of the longer side" : "")
            << (input.resize_shorter > 0
                    ? ", shorter side to " + std::to_string(input.resize_shorter) + " then centre crop"
                    : "")
            << "; normalisation " << input.training_normalization << " for training, " << input.weights_normalization
            << " for weights trained elsewhere\n";
  std::vector<std::string> classes = family.class_names ? family.class_names(given) : std::vector<std::string>{};
  if (!classes.empty()) {
    std::cout << "classes";
    for (const std::string& class_name : classes) std::cout << " " << class_name;
    std::cout << "\n";
  }
  std::cout << table.format();
  return 0;
}

}  // namespace

cli::Command info_command() {
  std::vector<cli::Option> options = {
      {"--model", {}, "NAME", model_flag_help(), ""},
  };
  for (cli::Option& flag : model_flags()) options.push_back(std::move(flag));
  return cli::Command("info",
                      "print a model's task, input format, layer table, parameter count and "
                      "multiply-accumulates per image",
                      std::move(options), run_info);
}

}  // namespace kiln::tools
