#include "tools/image_inputs.h"

#include <filesystem>

#include "kiln/error.h"

namespace kiln::tools {

namespace fs = std::filesystem;

std::vector<std::string> list_inputs(const std::string& input, std::vector<data::SkippedFile>& skipped) {
  KILN_CHECK(fs::exists(input), "--input ", input, ": no such file or folder");
  if (!fs::is_directory(input)) return {input};
  std::vector<std::string> paths = data::list_image_files(input, skipped);
  KILN_CHECK(!paths.empty(), "--input ", input, ": no .jpg, .jpeg, .png or .bmp images in this folder");
  return paths;
}

}  // namespace kiln::tools
