// The kiln program: one executable, one subcommand per file under tools/.
#include <iostream>

#include "kiln/device.h"
#include "kiln/threads.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace {

int devices_command(const kiln::cli::Arguments&) {
  std::cout << kiln::cuda_status_line() << "\n" << kiln::cpu_status_line() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using kiln::cli::Command;
  const std::vector<Command> commands = {
      Command("devices", "show the CUDA devices kiln can use (or why none) and the CPU backend", {}, devices_command),
      kiln::tools::train_command(),
      kiln::tools::eval_command(),
      kiln::tools::info_command(),
      kiln::tools::predict_command(),
      kiln::tools::make_scenes_command(),
      kiln::tools::segment_command(),
  };
  return kiln::cli::run_program(commands, std::vector<std::string>(argv + 1, argv + argc));
}
