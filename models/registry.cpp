#include "kiln/models/registry.h"

#include <set>

#include "kiln/models/facade_net.h"
#include "kiln/models/fcn.h"
#include "kiln/models/fmnist.h"
#include "kiln/models/roomnet.h"
#include "kiln/models/vgg.h"

namespace kiln::models {

const char* task_name(Task task) { return task == Task::classification ? "classification" : "segmentation"; }

const std::vector<ModelFamily>& model_families() {
  // One line per family; each family's facts live in its own file.
  static const std::vector<ModelFamily> families = [] {
    std::vector<ModelFamily> all = {
        fmnist_small_family(),
        fmnist_bn_family(),
        roomnet_family(),
        vgg_family(),
        fcn8s_family(),
        fcn16s_family(),
        fcn32s_family(),
        facade_net_family(),
    };
    std::set<std::string> names;
    for (const ModelFamily& family : all) {
      KILN_CHECK(names.insert(family.name).second, "model family '", family.name, "' is registered twice");
    }
    return all;
  }();
  return families;
}

const ModelFamily& model_family(const std::string& name) {
  for (const ModelFamily& family : model_families()) {
    if (family.name == name) return family;
  }
  fail("unknown model '", name, "' (valid models: ", model_list(), ")");
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const ModelFamily& family : model_families()) names.push_back(family.name);
  return names;
}

std::string model_list() {
  std::string list;
  for (const ModelFamily& family : model_families()) list.append(list.empty() ? "" : ", ").append(family.name);
  return list;
}

std::shared_ptr<nn::Module> make_model(const std::string& name, Generator& generator) {
  return make_model(name, {}, generator);
}

std::shared_ptr<nn::Module> make_model(const std::string& name, const ModelOptions& options, Generator& generator) {
  return model_family(name).build(options, generator);
}

const std::vector<ModelOptionSpec>& model_option_specs(const std::string& name) { return model_family(name).options; }

LayerTable describe_model(const std::string& name, const ModelOptions& options) {
  return model_family(name).describe(options);
}

InputFormat model_input(const std::string& name, const ModelOptions& options) {
  return model_family(name).input(options);
}

std::vector<std::string> default_class_names(const std::string& name, const ModelOptions& options) {
  const ModelFamily& family = model_family(name);
  std::vector<std::string> names = family.class_names ? family.class_names(options) : std::vector<std::string>{};
  if (!names.empty()) return names;
  const std::int64_t count = OptionReader(name, family.options, options).integer("classes", 1, 1 << 20);
  for (std::int64_t c = 0; c < count; ++c) names.push_back(std::to_string(c));
  return names;
}

void load_encoder_weights(const std::string& name, nn::Module& model, const std::string& path) {
  const ModelFamily& family = model_family(name);
  if (!family.load_encoder) {
    std::string loaders;
    for (const ModelFamily& other : model_families()) {
      if (other.load_encoder) loaders.append(loaders.empty() ? "" : ", ").append(other.name);
    }
    fail("model '", name, "' has no pretrained encoder that --encoder-weights could load (", path,
         "); models with one: ", loaders);
  }
  family.load_encoder(model, path);
}

}  // namespace kiln::models
