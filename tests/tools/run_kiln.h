#pragma once
// Runs `kiln <words>` over some subcommands in the test's process, capturing what they print.
#include <string>
#include <vector>

#include "tools/cli.h"

namespace kiln::test {

struct Run {
  int exit_code = 0;
  std::string output, errors;
};

Run run_kiln(const std::vector<cli::Command>& commands, const std::vector<std::string>& words);

}  // namespace kiln::test
