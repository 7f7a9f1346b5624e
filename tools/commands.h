#pragma once
// The kiln subcommands, one factory per file under tools/, registered by main.cpp.
#include "tools/cli.h"

namespace kiln::tools {

cli::Command train_command();  // tools/train.cpp
cli::Command eval_command();   // tools/eval.cpp
cli::Command info_command();   // tools/info.cpp
cli::Command predict_command();  // tools/predict.cpp
cli::Command make_scenes_command();  // tools/make_scenes.cpp
cli::Command segment_command();  // tools/segment.cpp

}  // namespace kiln::tools
