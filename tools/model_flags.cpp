#include "tools/model_flags.h"

#include <algorithm>

#include "kiln/models/registry.h"

namespace kiln::tools {

namespace {

struct ModelFlag {
  cli::Option option;
  std::string key;  // the model option it sets
};

std::string flag_of(const models::ModelOptionSpec& spec) {
  if (!spec.flag.empty()) return spec.flag;
  std::string flag = "--" + spec.key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

bool is_switch(const models::ModelOptionSpec& spec) { return spec.value_name == "true|false"; }

// One flag per option key over all families: help from the first family that declares it, then each family's
// default ("output classes (roomnet 6, vgg 1000)"); a key declared with two spellings is a registration mistake.
std::vector<ModelFlag> generate_flags() {
  struct Declared {
    ModelFlag flag;
    std::string help;
    std::vector<std::string> defaults;  // "roomnet 6"
  };
  std::vector<Declared> declared;
  for (const models::ModelFamily& family : models::model_families()) {
    for (const models::ModelOptionSpec& spec : family.options) {
      auto known = std::find_if(declared.begin(), declared.end(),
                                [&](const Declared& entry) { return entry.flag.key == spec.key; });
      if (known == declared.end()) {
        const std::string value_name = is_switch(spec) ? "" : spec.value_name;
        declared.push_back({{{flag_of(spec), {}, value_name, "", ""}, spec.key}, spec.help, {}});
        known = declared.end() - 1;
      }
      cli::Option& option = known->flag.option;
      KILN_CHECK(option.name == flag_of(spec) && option.value_name == (is_switch(spec) ? "" : spec.value_name),
                 "model ", family.name, ": option ", spec.key, " is declared as ", flag_of(spec), " ", spec.value_name,
                 " but another model declares it as ", option.name, " ", option.value_name);
      for (const std::string& alias : spec.aliases) {
        if (std::find(option.aliases.begin(), option.aliases.end(), alias) == option.aliases.end()) {
          option.aliases.push_back(alias);
        }
      }
      known->defaults.push_back(family.name + (is_switch(spec) ? "" : " " + spec.default_value));
    }
  }
  std::vector<ModelFlag> flags;
  for (Declared& entry : declared) {
    std::string defaults;
    for (const std::string& text : entry.defaults) defaults.append(defaults.empty() ? "" : ", ").append(text);
    entry.flag.option.help = entry.help + " (" + defaults + ")";
    flags.push_back(std::move(entry.flag));
  }
  return flags;
}

const std::vector<ModelFlag>& flag_table() {
  static const std::vector<ModelFlag> table = generate_flags();
  return table;
}

}  // namespace

std::vector<cli::Option> model_flags() {
  std::vector<cli::Option> options;
  for (const ModelFlag& flag : flag_table()) options.push_back(flag.option);
  return options;
}

models::ModelOptions model_options_from(const cli::Arguments& arguments) {
  models::ModelOptions options;
  for (const ModelFlag& flag : flag_table()) {
    if (!arguments.has(flag.option.name)) continue;
    options[flag.key] = flag.option.value_name.empty() ? "true" : arguments.text(flag.option.name);
  }
  return options;
}

std::string model_flag_help() {
  return "the model: " + models::model_list();
}

}  // namespace kiln::tools
