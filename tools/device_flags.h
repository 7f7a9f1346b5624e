#pragma once
// The flags that say where and how a command's ops run, shared by kiln train, eval and predict: --device, the backend
// per op family (--conv, --bn, --gemm) and the --tf32 and --deterministic switches (kiln/backend.h).
#include <string>
#include <vector>

#include "kiln/device.h"
#include "tools/cli.h"

namespace kiln::tools {

// The flags; device_help says what --device places ("where to train").
std::vector<cli::Option> device_flags(const std::string& device_help);

// Reads the flags, applies the backend settings and returns the device: "auto" (cuda:0 when a GPU is usable, else the
// CPU), "cpu", "cuda" or "cuda:N". A malformed value is a usage error naming the flag; a CUDA device that is not
// usable, or a library this build lacks or the CPU cannot run, is an error naming the flag.
Device device_from_flags(const cli::Arguments& arguments);

}  // namespace kiln::tools
