#include "kiln/data/tiny_imagenet.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "kiln/error.h"

namespace kiln::data {

namespace fs = std::filesystem;

namespace {

std::ifstream open_text(const fs::path& path) {
  std::ifstream file(path);
  KILN_CHECK(file.is_open(), path.string(), ": missing (Tiny ImageNet layout)");
  return file;
}

std::string trimmed(std::string text) {
  const auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  text.erase(std::find_if_not(text.rbegin(), text.rend(), space).base(), text.end());
  text.erase(text.begin(), std::find_if_not(text.begin(), text.end(), space));
  return text;
}

std::vector<std::string> read_wnids(const fs::path& path) {
  std::ifstream file = open_text(path);
  std::vector<std::string> wnids;
  for (std::string line; std::getline(file, line);) {
    if (!trimmed(line).empty()) wnids.push_back(trimmed(line));
  }
  KILN_CHECK(!wnids.empty(), path.string(), ": no class ids");
  std::sort(wnids.begin(), wnids.end());
  KILN_CHECK(std::adjacent_find(wnids.begin(), wnids.end()) == wnids.end(), path.string(), ": a class id repeats");
  return wnids;
}

// words.txt covers all of WordNet; only the classes' lines are kept. A missing words.txt leaves descriptions empty.
std::vector<std::string> read_descriptions(const fs::path& path, const std::vector<std::string>& wnids) {
  std::vector<std::string> descriptions(wnids.size());
  std::ifstream file(path);
  if (!file.is_open()) return descriptions;
  for (std::string line; std::getline(file, line);) {
    const std::size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    const auto found = std::lower_bound(wnids.begin(), wnids.end(), line.substr(0, tab));
    if (found != wnids.end() && *found == line.substr(0, tab)) {
      descriptions[static_cast<std::size_t>(found - wnids.begin())] = trimmed(line.substr(tab + 1));
    }
  }
  return descriptions;
}

ImageSet read_validation(const fs::path& folder, const std::vector<std::string>& wnids) {
  const fs::path annotations_path = folder / "val_annotations.txt", images = folder / "images";
  KILN_CHECK(fs::is_directory(images), images.string(), ": no such folder (Tiny ImageNet layout)");
  std::ifstream annotations = open_text(annotations_path);
  ImageSet set;
  set.classes = wnids;
  std::set<std::string> annotated;
  std::size_t line_number = 0;
  for (std::string line; std::getline(annotations, line);) {
    ++line_number;
    if (trimmed(line).empty()) continue;
    const std::size_t first_tab = line.find('\t');
    KILN_CHECK(first_tab != std::string::npos, annotations_path.string(), ":", line_number,
               ": expected 'file<TAB>wnid...'");
    const std::size_t second_tab = line.find('\t', first_tab + 1);
    const std::string file = line.substr(0, first_tab);
    const std::string wnid = trimmed(line.substr(first_tab + 1, second_tab - first_tab - 1));
    const auto found = std::lower_bound(wnids.begin(), wnids.end(), wnid);
    KILN_CHECK(found != wnids.end() && *found == wnid, annotations_path.string(), ":", line_number, ": class '", wnid,
               "' is not in wnids.txt");
    const fs::path path = images / file;
    annotated.insert(path.string());
    if (!fs::is_regular_file(path)) {
      set.skipped.push_back({path.string(), "listed in val_annotations.txt but missing"});
      continue;
    }
    set.items.push_back({path.string(), static_cast<std::int32_t>(found - wnids.begin())});
  }
  for (const fs::directory_entry& entry : fs::directory_iterator(images)) {
    if (entry.is_regular_file() && !annotated.contains(entry.path().string())) {
      set.skipped.push_back({entry.path().string(), "no entry in val_annotations.txt"});
    }
  }
  KILN_CHECK(!set.items.empty(), annotations_path.string(), ": no validation images");
  std::sort(set.items.begin(), set.items.end(), [](const ImageItem& a, const ImageItem& b) { return a.path < b.path; });
  return set;
}

}  // namespace

TinyImageNet load_tiny_imagenet(const std::string& root) {
  KILN_CHECK(fs::is_directory(root), root, ": no such folder (expected Tiny ImageNet: wnids.txt, train/, val/)");
  TinyImageNet data;
  const std::vector<std::string> wnids = read_wnids(fs::path(root) / "wnids.txt");
  data.descriptions = read_descriptions(fs::path(root) / "words.txt", wnids);
  // Each class's images/ subfolder only: train/<wnid>/ also holds <wnid>_boxes.txt.
  std::vector<std::string> image_folders;
  for (const std::string& wnid : wnids) image_folders.push_back(wnid + "/images");
  data.train = list_image_folder((fs::path(root) / "train").string(), image_folders);
  data.train.classes = wnids;
  data.validation = read_validation(fs::path(root) / "val", wnids);
  return data;
}

}  // namespace kiln::data
