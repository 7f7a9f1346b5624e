#include "kiln/models/registry.h"

#include <functional>
#include <utility>

#include "kiln/models/fmnist.h"

namespace kiln::models {

namespace {

using Factory = std::function<std::shared_ptr<nn::Module>(Generator&)>;

const std::vector<std::pair<std::string, Factory>>& factories() {
  static const std::vector<std::pair<std::string, Factory>> table = {
      {"fmnist-small", [](Generator& generator) { return std::make_shared<FmnistSmall>(generator); }},
      {"fmnist-bn", [](Generator& generator) { return std::make_shared<FmnistBn>(generator); }},
  };
  return table;
}

}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories()) names.push_back(name);
  return names;
}

std::shared_ptr<nn::Module> make_model(const std::string& name, Generator& generator) {
  std::string valid;
  for (const auto& [known, factory] : factories()) {
    if (known == name) return factory(generator);
    valid.append(valid.empty() ? "" : ", ").append(known);
  }
  fail("unknown model '", name, "' (valid models: ", valid, ")");
}

Generator* training_generator(nn::Module& model) {
  if (auto* bn = dynamic_cast<FmnistBn*>(&model)) return &bn->dropout_generator;
  return nullptr;
}

}  // namespace kiln::models
