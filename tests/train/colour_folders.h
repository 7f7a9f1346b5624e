#pragma once
// Tiny image folders whose classes differ by colour, written as PNG and JPEG, for the image-training tests.
#include <filesystem>

namespace kiln::test {

struct ColourImages {
  int per_class = 4, width = 32, height = 32;
  int first_seed = 0;   // of the images' patterns: a held-out folder takes seeds the training folder does not
  int noise = 48;       // per-pixel noise of -noise..noise levels
  int brightness = 0;   // a shift of the whole image, -brightness..brightness levels, drawn per image
  // The noise: image_files.h's pattern(), a hash of a linear function of x and y (a texture much alike in every
  // image), or independent per pixel, drawn from a generator seeded per image (RoomNet learns the texture instead of
  // the colours).
  bool texture_noise = true;
};

// root/<blue|green|red>/<i>.png or .jpg (alternating): the class's colour, shifted and with noise, so that no two
// images are alike.
void write_colour_classes(const std::filesystem::path& root, const ColourImages& images);
// `per_class` images of width x height with the default noise.
void write_colour_classes(const std::filesystem::path& root, int per_class, int width, int height);

}  // namespace kiln::test
