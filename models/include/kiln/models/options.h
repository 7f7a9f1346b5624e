#pragma once
// A model's settings as text by key ("depth" -> "16"): the form they take as command-line flags and in checkpoint
// metadata, so that a saved model can be rebuilt exactly. Each model family declares the keys it reads.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kiln::models {

using ModelOptions = std::map<std::string, std::string>;

// One setting a model family reads: its key, the form of its value, its default and what it does.
struct ModelOptionSpec {
  std::string key;
  std::string value_name;  // "N", "X", "avg|max", "true|false"
  std::string default_value;
  std::string help;
  // The command-line flag is "--" + key with dashes (image_size: --image-size) unless `flag` names another; `aliases`
  // are further spellings (the VGG seed's -d, -c11, -i). Options whose value_name is "true|false" are switches.
  std::vector<std::string> aliases = {};
  std::string flag = {};
};

// Typed reading of options against a family's specs: absent keys take the spec's default; an unknown key or a malformed
// or out-of-range value throws kiln::Error naming the model, the key and the value.
class OptionReader {
 public:
  OptionReader(std::string model, const std::vector<ModelOptionSpec>& specs, const ModelOptions& options);
  std::int64_t integer(const std::string& key, std::int64_t min, std::int64_t max) const;
  double number(const std::string& key, double min, double max) const;
  bool boolean(const std::string& key) const;  // "true"/"false" (also "1"/"0")
  std::string choice(const std::string& key, const std::vector<std::string>& allowed) const;

 private:
  std::string text(const std::string& key) const;
  std::string model_;
  const std::vector<ModelOptionSpec>& specs_;
  const ModelOptions& options_;
};

// The options with every default of `specs` filled in (what a checkpoint should record).
ModelOptions with_defaults(const std::vector<ModelOptionSpec>& specs, const ModelOptions& options);

}  // namespace kiln::models
