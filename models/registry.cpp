#include "kiln/models/registry.h"

#include <functional>

#include "kiln/models/fmnist.h"
#include "kiln/models/roomnet.h"
#include "kiln/models/vgg.h"

namespace kiln::models {

namespace {

struct Family {
  std::string name;
  const std::vector<ModelOptionSpec>& specs;
  std::function<std::shared_ptr<nn::Module>(const ModelOptions&, Generator&)> build;
  std::function<LayerTable(const ModelOptions&)> describe;
};

// The Fashion-MNIST nets take no options; OptionReader rejects any given.
const std::vector<ModelOptionSpec> no_options;
template <class Model>
Family fixed_family(std::string name, LayerTable (*layer_table)()) {
  const std::string model = name;
  return {std::move(name), no_options,
          [model](const ModelOptions& options, Generator& generator) -> std::shared_ptr<nn::Module> {
            OptionReader(model, no_options, options);
            return std::make_shared<Model>(generator);
          },
          [model, layer_table](const ModelOptions& options) {
            OptionReader(model, no_options, options);
            return layer_table();
          }};
}

const std::vector<Family>& families() {
  static const std::vector<Family> table = {
      fixed_family<FmnistSmall>("fmnist-small", fmnist_small_layer_table),
      fixed_family<FmnistBn>("fmnist-bn", fmnist_bn_layer_table),
      {"roomnet", RoomNetOptions::specs(),
       [](const ModelOptions& options, Generator& generator) {
         return std::make_shared<RoomNet>(RoomNetOptions::from(options), generator);
       },
       [](const ModelOptions& options) { return roomnet_layer_table(RoomNetOptions::from(options)); }},
      {"vgg", VggOptions::specs(),
       [](const ModelOptions& options, Generator& generator) {
         return std::make_shared<Vgg>(VggOptions::from(options), generator);
       },
       [](const ModelOptions& options) { return vgg_layer_table(VggOptions::from(options)); }},
  };
  return table;
}

const Family& family(const std::string& name) {
  std::string valid;
  for (const Family& known : families()) {
    if (known.name == name) return known;
    valid.append(valid.empty() ? "" : ", ").append(known.name);
  }
  fail("unknown model '", name, "' (valid models: ", valid, ")");
}

}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const Family& known : families()) names.push_back(known.name);
  return names;
}

std::shared_ptr<nn::Module> make_model(const std::string& name, Generator& generator) {
  return make_model(name, {}, generator);
}

std::shared_ptr<nn::Module> make_model(const std::string& name, const ModelOptions& options, Generator& generator) {
  return family(name).build(options, generator);
}

const std::vector<ModelOptionSpec>& model_option_specs(const std::string& name) { return family(name).specs; }

LayerTable describe_model(const std::string& name, const ModelOptions& options) {
  return family(name).describe(options);
}

Generator* training_generator(nn::Module& model) {
  if (auto* net = dynamic_cast<FmnistBn*>(&model)) return &net->dropout_generator;
  if (auto* net = dynamic_cast<RoomNet*>(&model)) return &net->dropout_generator;
  if (auto* net = dynamic_cast<Vgg*>(&model)) return &net->dropout_generator;
  return nullptr;
}

}  // namespace kiln::models
