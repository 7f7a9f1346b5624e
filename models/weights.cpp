#include "kiln/models/weights.h"

#include <algorithm>
#include <set>

namespace kiln::models {

namespace {

bool is_ignored_extra(const std::string& name) {
  const std::string counter = "num_batches_tracked";
  return name == counter || name.ends_with("." + counter);
}

}  // namespace

void load_state_dict(nn::Module& model, const SafetensorsFile& file, const std::string& source) {
  std::vector<std::pair<Tensor, Tensor>> copies;  // (destination, source), checked before any is made
  std::set<std::string> used;
  const auto plan_copy = [&](const std::string& name, const Tensor& destination) {
    const bool unloadable = std::find(file.skipped.begin(), file.skipped.end(), name) != file.skipped.end();
    KILN_CHECK(!unloadable, source, ": tensor '", name, "' has a dtype kiln cannot load (the model expects float)");
    KILN_CHECK(file.contains(name), source, ": missing tensor '", name, "' (", shape_str(destination.shape()), ")");
    const Tensor& stored = file.at(name);
    KILN_CHECK(stored.shape() == destination.shape(), source, ": tensor '", name, "' has shape ",
               shape_str(stored.shape()), ", the model expects ", shape_str(destination.shape()));
    copies.emplace_back(destination, stored);
    used.insert(name);
  };
  for (const nn::NamedParameter& parameter : model.named_parameters()) plan_copy(parameter.name, parameter.tensor);
  for (const nn::NamedBuffer& buffer : model.named_buffers()) plan_copy(buffer.name, buffer.tensor);
  for (const auto& [name, tensor] : file.tensors) {
    KILN_CHECK(used.contains(name) || is_ignored_extra(name), source, ": tensor '", name, "' (",
               shape_str(tensor.shape()), ") is not in the model");
  }
  for (const std::string& name : file.skipped) {
    KILN_CHECK(is_ignored_extra(name), source, ": tensor '", name,
               "' has a dtype kiln cannot load and is not in the model");
  }
  for (auto& [destination, stored] : copies) destination.copy_from(stored.to(destination.dtype()));
}

void load_weights(nn::Module& model, const std::string& path) { load_state_dict(model, load_safetensors(path), path); }

}  // namespace kiln::models
