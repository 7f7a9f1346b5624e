#include "tools/cli.h"

#include <charconv>
#include <cmath>
#include <iostream>
#include <sstream>

#include "kiln/version.h"

namespace kiln::cli {

bool Arguments::has(const std::string& name) const { return values_.contains(name); }

std::string Arguments::text(const std::string& name) const {
  if (auto found = values_.find(name); found != values_.end()) return found->second;
  if (auto found = defaults_.find(name); found != defaults_.end()) return found->second;
  throw UsageError("missing required flag " + name);
}

long long Arguments::integer(const std::string& name, long long min, long long max) const {
  const std::string value = text(name);
  long long parsed = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (error != std::errc() || end != value.data() + value.size()) {
    throw UsageError(name + ": expected an integer, got '" + value + "'");
  }
  if (parsed < min || parsed > max) {
    throw UsageError(name + ": " + value + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) +
                     "]");
  }
  return parsed;
}

double Arguments::number(const std::string& name, double min, double max) const {
  const std::string value = text(name);
  double parsed = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (error != std::errc() || end != value.data() + value.size() || !std::isfinite(parsed)) {
    throw UsageError(name + ": expected a number, got '" + value + "'");
  }
  if (parsed < min || parsed > max) {
    std::ostringstream message;
    message << name << ": " << value << " is out of range [" << min << ", " << max << "]";
    throw UsageError(message.str());
  }
  return parsed;
}

bool Arguments::flag(const std::string& name) const { return values_.contains(name); }

Command::Command(std::string name, std::string summary, std::vector<Option> options,
                 std::function<int(const Arguments&)> run, std::string positional_help)
    : name_(std::move(name)),
      summary_(std::move(summary)),
      positional_help_(std::move(positional_help)),
      options_(std::move(options)),
      run_(std::move(run)) {}

const Option* Command::find(const std::string& word) const {
  for (const Option& option : options_) {
    if (option.name == word) return &option;
    for (const std::string& alias : option.aliases) {
      if (alias == word) return &option;
    }
  }
  return nullptr;
}

std::string Command::help() const {
  std::ostringstream text;
  text << "usage: kiln " << name_ << " [options]";
  if (!positional_help_.empty()) text << " " << positional_help_;
  text << "\n\n"
       << summary_ << "\n\noptions:\n";
  for (const Option& option : options_) {
    std::string flags = option.name;
    for (const std::string& alias : option.aliases) flags.append(", ").append(alias);
    if (!option.value_name.empty()) flags.append(" ").append(option.value_name);
    text << "  " << flags;
    text << std::string(flags.size() < 30 ? 30 - flags.size() : 1, ' ') << option.help;
    if (!option.default_value.empty()) text << " (default: " << option.default_value << ")";
    text << "\n";
  }
  text << "  --help" << std::string(24, ' ') << "show this help\n";
  return text.str();
}

Arguments Command::parse(const std::vector<std::string>& words) const {
  Arguments arguments;
  for (const Option& option : options_) {
    if (!option.default_value.empty()) arguments.defaults_[option.name] = option.default_value;
  }
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (word.size() < 2 || word[0] != '-' || (word[1] >= '0' && word[1] <= '9')) {
      if (positional_help_.empty()) throw UsageError("unexpected argument '" + word + "'");
      arguments.positional_.push_back(word);
      continue;
    }
    std::string flag = word;
    std::optional<std::string> inline_value;
    if (const auto equals = word.find('='); equals != std::string::npos) {
      flag = word.substr(0, equals);
      inline_value = word.substr(equals + 1);
    }
    const Option* option = find(flag);
    if (option == nullptr) throw UsageError("unknown flag " + flag);
    if (option->value_name.empty()) {
      if (inline_value) throw UsageError(flag + " takes no value");
      arguments.values_.insert_or_assign(option->name, std::string(1, '1'));
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= words.size()) throw UsageError(flag + " needs a value (" + option->value_name + ")");
      inline_value = words[++i];
    }
    arguments.values_[option->name] = *inline_value;
  }
  return arguments;
}

namespace {

std::string program_help(const std::vector<Command>& commands) {
  std::ostringstream text;
  text << "usage: kiln <command> [options]\n       kiln --version | --help\n\ncommands:\n";
  for (const Command& command : commands) {
    text << "  " << command.name() << std::string(command.name().size() < 12 ? 12 - command.name().size() : 1, ' ')
         << command.summary() << "\n";
  }
  text << "\n`kiln <command> --help` describes a command's options.\n";
  return text.str();
}

bool wants_help(const std::vector<std::string>& words) {
  for (const std::string& word : words) {
    if (word == "--help" || word == "-h") return true;
  }
  return false;
}

}  // namespace

int run_program(const std::vector<Command>& commands, const std::vector<std::string>& words) {
  if (words.empty()) {
    std::cerr << program_help(commands);
    return 2;
  }
  const std::string& first = words[0];
  if (first == "--help" || first == "-h" || first == "help") {
    std::cout << program_help(commands);
    return 0;
  }
  if (first == "--version") {
    std::cout << version_string() << "\n";
    return 0;
  }
  const Command* command = nullptr;
  for (const Command& candidate : commands) {
    if (candidate.name() == first) command = &candidate;
  }
  if (command == nullptr) {
    std::cerr << "kiln: unknown command '" << first << "'\n\n" << program_help(commands);
    return 2;
  }
  const std::vector<std::string> rest(words.begin() + 1, words.end());
  if (wants_help(rest)) {
    std::cout << command->help();
    return 0;
  }
  try {
    return command->run(command->parse(rest));
  } catch (const UsageError& error) {
    std::cerr << "kiln " << command->name() << ": " << error.what() << "\n(see kiln " << command->name()
              << " --help)\n";
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "kiln " << command->name() << ": error: " << error.what() << "\n";
    return 1;
  }
}

}  // namespace kiln::cli
