#include "tests/tools/run_kiln.h"

#include <iostream>
#include <sstream>

namespace kiln::test {

Run run_kiln(const std::vector<cli::Command>& commands, const std::vector<std::string>& words) {
  std::ostringstream output, errors;
  std::streambuf* const saved_output = std::cout.rdbuf(output.rdbuf());
  std::streambuf* const saved_errors = std::cerr.rdbuf(errors.rdbuf());
  const int exit_code = cli::run_program(commands, words);
  std::cout.rdbuf(saved_output);
  std::cerr.rdbuf(saved_errors);
  return {exit_code, output.str(), errors.str()};
}

}  // namespace kiln::test
