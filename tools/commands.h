#pragma once
// The kiln subcommands, one factory per file under tools/, registered by main.cpp.
#include "kiln/device.h"
#include "tools/cli.h"

namespace kiln::tools {

cli::Command train_command();  // tools/train.cpp
cli::Command eval_command();   // tools/eval.cpp
cli::Command info_command();   // tools/info.cpp
cli::Command predict_command();  // tools/predict.cpp

// The --device flag: "auto" (cuda:0 when a GPU is usable, else the CPU), "cpu", "cuda" or "cuda:N". A malformed
// value is a usage error; a CUDA device that is not usable is an error quoting kiln's CUDA status line.
Device device_from_flag(const cli::Arguments& arguments);

}  // namespace kiln::tools
