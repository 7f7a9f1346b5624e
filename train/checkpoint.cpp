#include "kiln/train/checkpoint.h"

#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "kiln/models/registry.h"

namespace kiln::train {

namespace {

using Json = nlohmann::json;

// Shortest text that reads back to the same double ("inf" included).
std::string exact_text(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

Json rng_json(GeneratorState state) { return {{"seed", state.seed}, {"offset", state.offset}}; }

// Reads one metadata entry of a checkpoint, naming the file and key in every error.
class MetadataReader {
 public:
  MetadataReader(const SafetensorsFile& file, const std::string& path) : file_(file), path_(path) {}

  const std::string& text(const std::string& key) const {
    const auto found = file_.metadata.find(key);
    if (found == file_.metadata.end()) fail("checkpoint '", path_, "': metadata has no '", key, "'");
    return found->second;
  }

  template <class Number>
  Number number(const std::string& key) const {
    const std::string& value = text(key);
    Number parsed{};
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (error != std::errc() || end != value.data() + value.size()) bad(key, "is not a number");
    return parsed;
  }

  Json json(const std::string& key) const {
    Json parsed = Json::parse(text(key), nullptr, false);
    if (parsed.is_discarded()) bad(key, "is not valid JSON");
    return parsed;
  }

  template <class T>
  T json_as(const std::string& key, const Json& value) const {
    try {
      return value.get<T>();
    } catch (const Json::exception&) {
      bad(key, "has the wrong JSON type: ", value.dump());
    }
  }

  template <class... Parts>
  [[noreturn]] void bad(const std::string& key, const Parts&... parts) const {
    fail("checkpoint '", path_, "': metadata '", key, "' ", parts...);
  }

 private:
  const SafetensorsFile& file_;
  const std::string& path_;
};

GeneratorState read_rng(const MetadataReader& reader, const Json& rng_state, const char* stream) {
  if (!rng_state.is_object() || !rng_state.contains(stream)) reader.bad("rng_state", "has no '", stream, "' stream");
  const Json& entry = rng_state.at(stream);
  if (!entry.is_object() || !entry.contains("seed") || !entry.contains("offset")) {
    reader.bad("rng_state", "stream '", stream, "' needs a seed and an offset");
  }
  return {reader.json_as<std::uint64_t>("rng_state", entry.at("seed")),
          reader.json_as<std::uint64_t>("rng_state", entry.at("offset"))};
}

}  // namespace

void save_checkpoint(const std::string& path, const nn::Module& model, const CheckpointInfo& info) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const nn::NamedParameter& parameter : model.named_parameters()) {
    tensors.emplace_back(parameter.name, parameter.tensor.cpu());
  }
  for (const nn::NamedBuffer& buffer : model.named_buffers()) tensors.emplace_back(buffer.name, buffer.tensor.cpu());
  Json rng_state = {{"shuffle", rng_json(info.shuffle_rng)}};
  for (const auto& [name, state] : info.model_rngs) rng_state[name] = rng_json(state);
  std::map<std::string, std::string> metadata = {
      {"model", info.model},
      {"model_options", info.model_options},
      {"classes", Json(info.classes).dump()},
      {"input_mean", Json(info.input.mean).dump()},
      {"input_std", Json(info.input.std).dump()},
      {"epoch", std::to_string(info.epoch)},
      {"step", std::to_string(info.step)},
      {"seed", std::to_string(info.seed)},
      {"rng_state", rng_state.dump()},
      {"best_val_loss", exact_text(info.best_val_loss)},
      {"epochs_without_improvement", std::to_string(info.epochs_without_improvement)},
      {"train_config", info.train_config},
      {"preprocess", info.preprocess},
  };
  if (!info.class_colors.empty()) metadata["class_colors"] = Json(info.class_colors).dump();
  save_safetensors(path, tensors, metadata);
}

CheckpointInfo read_checkpoint_info(const SafetensorsFile& file, const std::string& path) {
  const MetadataReader reader(file, path);
  CheckpointInfo info;
  info.model = reader.text("model");
  info.model_options = reader.json("model_options").dump();
  info.classes = reader.json_as<std::vector<std::string>>("classes", reader.json("classes"));
  if (file.metadata.contains("class_colors")) {
    info.class_colors =
        reader.json_as<std::vector<std::array<std::uint8_t, 3>>>("class_colors", reader.json("class_colors"));
    if (info.class_colors.size() != info.classes.size()) {
      reader.bad("class_colors", "has ", info.class_colors.size(), " colours for ", info.classes.size(), " classes");
    }
  }
  info.input.mean = reader.json_as<std::vector<double>>("input_mean", reader.json("input_mean"));
  info.input.std = reader.json_as<std::vector<double>>("input_std", reader.json("input_std"));
  if (info.input.mean.size() != info.input.std.size()) {
    reader.bad("input_std", "has ", info.input.std.size(), " entries but input_mean has ", info.input.mean.size());
  }
  info.epoch = reader.number<std::int64_t>("epoch");
  info.step = reader.number<std::int64_t>("step");
  info.seed = reader.number<std::uint64_t>("seed");
  const Json rng_state = reader.json("rng_state");
  info.shuffle_rng = read_rng(reader, rng_state, "shuffle");
  for (const auto& [name, entry] : rng_state.items()) {
    if (name != "shuffle") info.model_rngs[name] = read_rng(reader, rng_state, name.c_str());
  }
  info.best_val_loss = reader.number<double>("best_val_loss");
  info.epochs_without_improvement = reader.number<std::int64_t>("epochs_without_improvement");
  info.train_config = reader.json("train_config").dump();
  if (file.metadata.contains("preprocess")) info.preprocess = reader.json("preprocess").dump();
  return info;
}

void load_module_tensors(nn::Module& model, const SafetensorsFile& file, const std::string& path) {
  std::vector<std::pair<std::string, Tensor>> destinations;
  for (const nn::NamedParameter& parameter : model.named_parameters()) {
    destinations.emplace_back(parameter.name, parameter.tensor);
  }
  for (const nn::NamedBuffer& buffer : model.named_buffers()) destinations.emplace_back(buffer.name, buffer.tensor);
  std::set<std::string> expected;
  for (const auto& [name, destination] : destinations) {
    expected.insert(name);
    KILN_CHECK(file.contains(name), "checkpoint '", path, "': missing tensor '", name, "' (expected shape ",
               shape_str(destination.shape()), ")");
    const Tensor& source = file.at(name);
    KILN_CHECK(source.shape() == destination.shape(), "checkpoint '", path, "': tensor '", name, "' has shape ",
               shape_str(source.shape()), " but the model expects ", shape_str(destination.shape()));
    KILN_CHECK(source.dtype() != DType::i32, "checkpoint '", path, "': tensor '", name, "' is ", describe(source),
               "; the model expects ", dtype_name(destination.dtype()));
  }
  for (const auto& [name, source] : file.tensors) {
    KILN_CHECK(expected.contains(name), "checkpoint '", path, "': tensor '", name, "' (", describe(source),
               ") is not part of the model");
  }
  for (auto& [name, destination] : destinations) destination.copy_from(file.at(name).to(destination.dtype()));
}

LoadedModel load_model(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  LoadedModel loaded;
  loaded.info = read_checkpoint_info(file, path);
  Generator unused_initialisation(0);  // every weight is overwritten by the checkpoint's
  models::ModelOptions options;
  try {
    options = nlohmann::json::parse(loaded.info.model_options).get<models::ModelOptions>();
  } catch (const nlohmann::json::exception& error) {
    fail("checkpoint '", path, "': metadata 'model_options' is not a JSON object of strings: ", error.what());
  }
  loaded.model = models::make_model(loaded.info.model, options, unused_initialisation);
  load_module_tensors(*loaded.model, file, path);
  for (const nn::NamedGenerator& generator : loaded.model->named_generators()) {
    const auto saved = loaded.info.model_rngs.find(generator.name);
    if (saved != loaded.info.model_rngs.end()) generator.generator->set_state(saved->second);
  }
  return loaded;
}

std::string optimizer_state_path(const std::string& checkpoint_path) {
  const std::string suffix = ".safetensors";
  const bool has_suffix = checkpoint_path.size() > suffix.size() &&
                          checkpoint_path.compare(checkpoint_path.size() - suffix.size(), suffix.size(), suffix) == 0;
  const std::string stem = has_suffix ? checkpoint_path.substr(0, checkpoint_path.size() - suffix.size())
                                      : checkpoint_path;
  return stem + ".optim" + suffix;
}

void save_optimizer_state(const std::string& path, const optim::Optimizer& optimizer,
                          const std::string& optimizer_name) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const nn::NamedBuffer& entry : optimizer.state()) tensors.emplace_back(entry.name, entry.tensor.cpu());
  save_safetensors(path, tensors, {{"optimizer", optimizer_name}, {"step", std::to_string(optimizer.steps_taken())}});
}

void load_optimizer_state(const std::string& path, optim::Optimizer& optimizer, const std::string& optimizer_name,
                          std::int64_t expected_step) {
  const SafetensorsFile file = load_safetensors(path);
  const MetadataReader reader(file, path);
  const std::string& saved_name = reader.text("optimizer");
  KILN_CHECK(saved_name == optimizer_name, "optimizer state '", path, "' is for ", saved_name, ", not ",
             optimizer_name);
  const auto step = reader.number<std::int64_t>("step");
  KILN_CHECK(step == expected_step, "optimizer state '", path, "' is from step ", step,
             " but its checkpoint from step ", expected_step, " (the two files were not written together)");
  std::vector<nn::NamedBuffer> state;
  for (const auto& [name, tensor] : file.tensors) state.push_back({name, tensor});
  optimizer.load_state(state, step);
}

}  // namespace kiln::train
