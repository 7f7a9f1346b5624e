#include "kiln/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "kiln/error.h"
#include "kiln/random.h"
#include "kiln/data/dataset.h"

namespace kiln::data {

namespace fs = std::filesystem;

namespace {

bool hidden(const fs::path& path) { return path.filename().string().starts_with('.'); }

bool image_extension(const fs::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == ".jpg" || extension == ".jpeg" || extension == ".png" || extension == ".bmp";
}

std::vector<std::string> sorted_subfolders(const fs::path& root) {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(root)) {
    if (entry.is_directory() && !hidden(entry.path())) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

ImageSet subset(const ImageSet& set, const std::vector<std::int64_t>& sorted_indices) {
  ImageSet part;
  part.classes = set.classes;
  for (const std::int64_t index : sorted_indices) part.items.push_back(set.items[static_cast<std::size_t>(index)]);
  return part;
}

}  // namespace

std::vector<std::string> list_image_files(const std::string& folder, std::vector<SkippedFile>& skipped) {
  std::vector<std::string> images;
  for (auto entry = fs::recursive_directory_iterator(folder, fs::directory_options::follow_directory_symlink);
       entry != fs::recursive_directory_iterator(); ++entry) {
    if (hidden(entry->path())) {
      if (entry->is_directory()) entry.disable_recursion_pending();
      continue;
    }
    if (!entry->is_regular_file()) continue;
    if (image_extension(entry->path())) {
      images.push_back(entry->path().string());
    } else {
      skipped.push_back({entry->path().string(), "not a .jpg, .jpeg, .png or .bmp file"});
    }
  }
  std::sort(images.begin(), images.end());
  return images;
}

ImageSet list_image_folder(const std::string& root, const std::vector<std::string>& classes) {
  KILN_CHECK(fs::is_directory(root), root, ": no such folder (expected one subfolder of images per class)");
  ImageSet set;
  set.classes = classes.empty() ? sorted_subfolders(root) : classes;
  KILN_CHECK(!set.classes.empty(), root, ": no class subfolders (expected one subfolder of images per class)");
  for (std::size_t label = 0; label < set.classes.size(); ++label) {
    const fs::path folder = fs::path(root) / set.classes[label];
    KILN_CHECK(fs::is_directory(folder), folder.string(), ": no such class folder");
    const std::vector<std::string> paths = list_image_files(folder.string(), set.skipped);
    KILN_CHECK(!paths.empty(), folder.string(), ": no .jpg, .jpeg, .png or .bmp images in this class folder");
    for (const std::string& path : paths) set.items.push_back({path, static_cast<std::int32_t>(label)});
  }
  return set;
}

std::vector<std::int64_t> class_counts(const ImageSet& set) {
  std::vector<std::int64_t> counts(set.classes.size(), 0);
  for (const ImageItem& item : set.items) ++counts.at(static_cast<std::size_t>(item.label));
  return counts;
}

ImageSplit split_image_set(const ImageSet& set, double fraction, std::uint64_t seed, bool stratified) {
  const auto count = static_cast<std::int64_t>(set.items.size());
  // Groups of item indices, each split separately: one per class, or the whole set.
  std::vector<std::vector<std::int64_t>> groups(stratified ? set.classes.size() : 1);
  for (std::int64_t i = 0; i < count; ++i) {
    groups[stratified ? static_cast<std::size_t>(set.items[static_cast<std::size_t>(i)].label) : 0].push_back(i);
  }
  Generator generator(seed);
  std::vector<std::int64_t> train, validation;
  for (const std::vector<std::int64_t>& group : groups) {
    const auto size = static_cast<std::int64_t>(group.size());
    const auto validation_count = static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(size)));
    const std::vector<std::int64_t> order = permutation(size, generator);
    for (std::int64_t i = 0; i < size; ++i) {
      (i < validation_count ? validation : train).push_back(group[static_cast<std::size_t>(order[i])]);
    }
  }
  KILN_CHECK(!train.empty() && !validation.empty(), "validation fraction ", fraction, " of ", count, " images (",
             stratified ? "per class" : "overall", ") leaves ", validation.size(), " for validation and ", train.size(),
             " for training; both need at least one");
  std::sort(train.begin(), train.end());
  std::sort(validation.begin(), validation.end());
  ImageSplit split{subset(set, train), subset(set, validation)};
  split.train.skipped = set.skipped;
  return split;
}

}  // namespace kiln::data
