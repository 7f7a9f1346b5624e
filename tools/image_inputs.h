#pragma once
// The images a command reads from its --input: one file, or a folder's images at any depth (kiln predict, segment).
#include <string>
#include <vector>

#include "kiln/data/image_folder.h"

namespace kiln::tools {

// `input` itself when it is a file (whatever its extension: decoding decides), else the folder's .jpg, .jpeg, .png
// and .bmp files at any depth, sorted, other files recorded in `skipped` (data::list_image_files). Throws naming
// --input when it does not exist or the folder holds no image.
std::vector<std::string> list_inputs(const std::string& input, std::vector<data::SkippedFile>& skipped);

}  // namespace kiln::tools
