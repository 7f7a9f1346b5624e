#pragma once
// Labelled lists of image files: class-per-subfolder trees, and validation splits of them. Only paths and labels are
// held; decoding happens batch by batch (image_dataset.h, async_reader.h).
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::data {

struct ImageItem {
  std::string path;
  std::int32_t label = 0;
};

// A file left out of a set, and why: listing skips files that are not JPEG, PNG or BMP by extension; decoding skips
// files that turn out unreadable or corrupt.
struct SkippedFile {
  std::string path, reason;
};

// The files under `folder` at any depth ending in .jpg, .jpeg, .png or .bmp (any case), sorted; other files are
// recorded in `skipped`; hidden files and folders (a leading '.') are ignored.
std::vector<std::string> list_image_files(const std::string& folder, std::vector<SkippedFile>& skipped);

struct ImageSet {
  std::vector<ImageItem> items;
  std::vector<std::string> classes;  // label i names classes[i]
  std::vector<SkippedFile> skipped;
};

// The images of root/<class>/..., any depth below each class folder, sorted by path within a class and classes in
// label order. Classes are the sorted names of root's subfolders, or `classes` in that order when given (then other
// subfolders are ignored). Files ending in .jpg, .jpeg, .png or .bmp (any case) are listed; other files are recorded
// in `skipped`; hidden files and folders (a leading '.') are ignored. Throws naming the folder when root or a class
// folder is missing or a class has no image.
ImageSet list_image_folder(const std::string& root, const std::vector<std::string>& classes = {});

// The number of images of each class.
std::vector<std::int64_t> class_counts(const ImageSet& set);

struct ImageSplit {
  ImageSet train, validation;
};
// Moves round(fraction * count) images, chosen by Philox(seed), to validation; both parts keep the set's order and
// classes (`skipped` stays with train). Stratified: the count is taken per class, so that each class keeps its share
// in both parts; otherwise over the whole set. Throws when either part would be empty.
ImageSplit split_image_set(const ImageSet& set, double fraction, std::uint64_t seed, bool stratified = true);

}  // namespace kiln::data
