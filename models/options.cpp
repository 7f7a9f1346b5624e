#include "kiln/models/options.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "kiln/error.h"

namespace kiln::models {

OptionReader::OptionReader(std::string model, const std::vector<ModelOptionSpec>& specs, const ModelOptions& options)
    : model_(std::move(model)), specs_(specs), options_(options) {
  for (const auto& [key, value] : options_) {
    const bool known =
        std::any_of(specs_.begin(), specs_.end(), [&](const ModelOptionSpec& s) { return s.key == key; });
    if (known) continue;
    std::string valid;
    for (const ModelOptionSpec& spec : specs_) valid.append(valid.empty() ? "" : ", ").append(spec.key);
    fail("model ", model_, " has no option '", key, "' (its options: ", valid.empty() ? "none" : valid, ")");
  }
}

std::string OptionReader::text(const std::string& key) const {
  if (const auto given = options_.find(key); given != options_.end()) return given->second;
  for (const ModelOptionSpec& spec : specs_) {
    if (spec.key == key) return spec.default_value;
  }
  fail("model ", model_, ": option '", key, "' is not declared");
}

std::int64_t OptionReader::integer(const std::string& key, std::int64_t min, std::int64_t max) const {
  const std::string value = text(key);
  std::int64_t parsed = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  KILN_CHECK(error == std::errc() && end == value.data() + value.size(), "model ", model_, ": option ", key,
             " expects an integer, got '", value, "'");
  KILN_CHECK(parsed >= min && parsed <= max, "model ", model_, ": option ", key, " = ", value, " is out of range [",
             min, ", ", max, "]");
  return parsed;
}

double OptionReader::number(const std::string& key, double min, double max) const {
  const std::string value = text(key);
  double parsed = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  KILN_CHECK(error == std::errc() && end == value.data() + value.size() && std::isfinite(parsed), "model ", model_,
             ": option ", key, " expects a number, got '", value, "'");
  KILN_CHECK(parsed >= min && parsed <= max, "model ", model_, ": option ", key, " = ", value, " is out of range [",
             min, ", ", max, "]");
  return parsed;
}

bool OptionReader::boolean(const std::string& key) const {
  const std::string value = text(key);
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  fail("model ", model_, ": option ", key, " expects true or false, got '", value, "'");
}

std::string OptionReader::choice(const std::string& key, const std::vector<std::string>& allowed) const {
  const std::string value = text(key);
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return value;
  std::string valid;
  for (const std::string& option : allowed) valid.append(valid.empty() ? "" : ", ").append(option);
  fail("model ", model_, ": option ", key, " expects one of ", valid, ", got '", value, "'");
}

ModelOptions with_defaults(const std::vector<ModelOptionSpec>& specs, const ModelOptions& options) {
  ModelOptions complete = options;
  for (const ModelOptionSpec& spec : specs) complete.try_emplace(spec.key, spec.default_value);
  return complete;
}

}  // namespace kiln::models
