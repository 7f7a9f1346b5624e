#pragma once
// The Tiny ImageNet layout: wnids.txt (the class ids), words.txt (id TAB description), train/<wnid>/images/*.JPEG,
// val/images/*.JPEG labelled by val/val_annotations.txt (file TAB wnid TAB box).
#include <string>
#include <vector>

#include "kiln/data/image_folder.h"

namespace kiln::data {

struct TinyImageNet {
  // Both sets label by the sorted wnids (as a class-per-subfolder reading of train/ would).
  ImageSet train, validation;
  std::vector<std::string> descriptions;  // words.txt's text for each class, "" when it has none
};

// Throws naming the file or folder that is missing or malformed (a wnid outside wnids.txt, a line without a TAB).
// Annotated validation files that do not exist, and validation images without an annotation, are recorded as skipped.
TinyImageNet load_tiny_imagenet(const std::string& root);

}  // namespace kiln::data
