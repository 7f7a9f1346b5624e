#pragma once
// Tiny image folders whose classes differ by colour, written as PNG and JPEG, for the image-training tests.
#include <filesystem>

namespace kiln::test {

// root/<blue|green|red>/<i>.png or .jpg (alternating), `per_class` images of width x height each: the class's colour
// with per-pixel noise of +-48 levels, so that no two images are alike.
void write_colour_classes(const std::filesystem::path& root, int per_class, int width, int height);

}  // namespace kiln::test
