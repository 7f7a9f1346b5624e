#pragma once
// A small command-line parser for the kiln subcommands: --flag value, --flag=value, boolean switches, aliases
// (the seed projects' -b/-e/... spellings), --help per command. Bad input throws UsageError naming the flag.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kiln/error.h"

namespace kiln::cli {

// A mistake in the command line: printed with the command's usage hint, exit code 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

struct Option {
  std::string name;                  // "--batch-size"
  std::vector<std::string> aliases;  // {"-b"}
  std::string value_name;            // "N"; empty for a switch
  std::string help;
  std::string default_value;         // shown in --help; used when the flag is absent
};

class Arguments {
 public:
  bool has(const std::string& name) const;  // given on the command line
  std::string text(const std::string& name) const;
  long long integer(const std::string& name, long long min, long long max) const;
  double number(const std::string& name, double min, double max) const;
  bool flag(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  friend class Command;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> defaults_;
  std::vector<std::string> positional_;
};

class Command {
 public:
  Command(std::string name, std::string summary, std::vector<Option> options, std::function<int(const Arguments&)> run,
          std::string positional_help = "");
  const std::string& name() const { return name_; }
  const std::string& summary() const { return summary_; }
  std::string help() const;
  Arguments parse(const std::vector<std::string>& words) const;  // words after the command name
  int run(const Arguments& arguments) const { return run_(arguments); }

 private:
  const Option* find(const std::string& word) const;
  std::string name_, summary_, positional_help_;
  std::vector<Option> options_;
  std::function<int(const Arguments&)> run_;
};

// Runs `kiln <command> ...`: dispatches to the command, prints help, turns errors into messages and exit codes
// (0 ok, 1 failure, 2 usage error).
int run_program(const std::vector<Command>& commands, const std::vector<std::string>& words);

}  // namespace kiln::cli
