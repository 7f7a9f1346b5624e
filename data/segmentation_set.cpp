#include "kiln/data/segmentation_set.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "kiln/data/image_bytes.h"
#include "kiln/error.h"

namespace kiln::data {

namespace fs = std::filesystem;

namespace {

constexpr const char* layout_hint = "a segmentation set holds images/ and masks/ with the same file names";

// The relative path without its extension: what pairs an image with its mask.
std::string pairing_key(const fs::path& file, const fs::path& folder) {
  return fs::relative(file, folder).replace_extension().generic_string();
}

bool png_extension(const fs::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == ".png";
}

std::uint32_t colour_key(std::uint8_t red, std::uint8_t green, std::uint8_t blue) {
  return (std::uint32_t{red} << 16) | (std::uint32_t{green} << 8) | blue;
}

std::string describe_colour(const std::array<std::uint8_t, 3>& colour) {
  std::ostringstream text;
  text << "(" << int{colour[0]} << ", " << int{colour[1]} << ", " << int{colour[2]} << ")";
  return text.str();
}

std::string describe_pixel(std::int64_t pixel, std::int64_t width) {
  std::ostringstream text;
  text << "pixel (x " << pixel % width << ", y " << pixel / width << ")";
  return text.str();
}

SegmentationClass parse_class(const nlohmann::json& entry, const std::string& where) {
  KILN_CHECK(entry.is_object(), where, ": expected an object {\"name\": ..., \"color\": [r, g, b]}");
  const auto name = entry.find("name");
  KILN_CHECK(name != entry.end() && name->is_string() && !name->get<std::string>().empty(), where,
             ": \"name\" must be a non-empty string");
  SegmentationClass parsed{name->get<std::string>(), {}};
  const auto colour = entry.find("color");
  const bool valid = colour != entry.end() && colour->is_array() && colour->size() == 3 &&
                     std::all_of(colour->begin(), colour->end(), [](const nlohmann::json& value) {
                       return value.is_number_integer() && value.get<std::int64_t>() >= 0 &&
                              value.get<std::int64_t>() <= 255;
                     });
  KILN_CHECK(valid, where, " (\"", parsed.name, "\"): \"color\" must be [r, g, b] with integers 0..255");
  for (std::size_t c = 0; c < 3; ++c) parsed.color[c] = (*colour)[c].get<std::uint8_t>();
  return parsed;
}

}  // namespace

ClassList cmp_facade_classes() {
  return {{"others", {0, 0, 0}},
          {"facade", {0, 128, 255}},
          {"pillar", {128, 255, 128}},
          {"window", {255, 128, 0}},
          {"balcony", {255, 0, 0}}};
}

ClassList parse_class_list(const std::string& text, const std::string& source) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    fail(source, ": not valid JSON (", error.what(), ")");
  }
  KILN_CHECK(json.is_array() && !json.empty(), source,
             ": expected a non-empty JSON array of {\"name\": ..., \"color\": [r, g, b]} entries, one per class");
  ClassList classes;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const std::string where = source + ": entry " + std::to_string(i);
    SegmentationClass parsed = parse_class(json[i], where);
    for (std::size_t j = 0; j < classes.size(); ++j) {
      KILN_CHECK(classes[j].name != parsed.name, where, ": name \"", parsed.name, "\" repeats entry ", j);
      KILN_CHECK(classes[j].color != parsed.color, where, " (\"", parsed.name, "\"): color ",
                 describe_colour(parsed.color), " repeats entry ", j, " (\"", classes[j].name, "\")");
    }
    classes.push_back(std::move(parsed));
  }
  return classes;
}

std::string format_class_list(const ClassList& classes) {
  std::string text = "[\n";
  for (std::size_t i = 0; i < classes.size(); ++i) {
    const auto& colour = classes[i].color;
    text += "  {\"name\": " + nlohmann::json(classes[i].name).dump() + ", \"color\": [" + std::to_string(colour[0]) +
            ", " + std::to_string(colour[1]) + ", " + std::to_string(colour[2]) + "]}" +
            (i + 1 < classes.size() ? ",\n" : "\n");
  }
  return text + "]\n";
}

ClassList read_class_list(const std::string& path) {
  std::ifstream file(path);
  KILN_CHECK(file, path, ": cannot open the class list");
  std::ostringstream text;
  text << file.rdbuf();
  return parse_class_list(text.str(), path);
}

SegmentationSet list_segmentation_folder(const std::string& root) {
  KILN_CHECK(fs::is_directory(root), root, ": no such folder (", layout_hint, ")");
  const fs::path images_folder = fs::path(root) / "images", masks_folder = fs::path(root) / "masks";
  for (const fs::path& folder : {images_folder, masks_folder}) {
    KILN_CHECK(fs::is_directory(folder), folder.string(), ": no such folder (", layout_hint, ")");
  }
  SegmentationSet set;
  const fs::path class_file = fs::path(root) / "classes.json";
  if (fs::exists(class_file)) set.classes = read_class_list(class_file.string());

  std::map<std::string, std::string> masks;  // pairing key -> path
  const std::vector<std::string> mask_files = list_image_files(masks_folder.string(), set.skipped);
  for (const std::string& path : mask_files) {
    if (!png_extension(path)) {
      set.skipped.push_back({path, "a mask must be a .png file"});
    } else if (const auto [it, added] = masks.emplace(pairing_key(path, masks_folder), path); !added) {
      set.skipped.push_back({path, "another mask has the same name: " + it->second});
    }
  }
  std::map<std::string, std::string> paired;  // pairing key -> image path
  const std::vector<std::string> image_files = list_image_files(images_folder.string(), set.skipped);
  for (const std::string& path : image_files) {
    const std::string key = pairing_key(path, images_folder);
    const auto mask = masks.find(key);
    if (mask == masks.end()) {
      set.skipped.push_back({path, "no mask " + (masks_folder / (key + ".png")).string()});
    } else if (const auto [it, added] = paired.emplace(key, path); !added) {
      set.skipped.push_back({path, "another image has the same name: " + it->second});
    } else {
      set.items.push_back({path, mask->second});
    }
  }
  for (const auto& [key, path] : masks) {
    if (!paired.contains(key)) set.skipped.push_back({path, "no image of this name in " + images_folder.string()});
  }
  KILN_CHECK(!set.items.empty(), root, ": no image in images/ has a mask in masks/ (", image_files.size(),
             " images, ", mask_files.size(), " masks; ", layout_hint, ")");
  return set;
}

Mask decode_mask(const std::string& path, const ClassList& classes, std::int32_t ignore_label) {
  const ImageBytes bytes = decode_image_bytes(path);
  Mask mask{bytes.height, bytes.width, std::vector<std::int32_t>(static_cast<std::size_t>(bytes.height * bytes.width))};
  const std::int64_t pixels = bytes.height * bytes.width;
  const auto channels = static_cast<std::size_t>(bytes.channels);
  if (bytes.channels <= 2) {
    for (std::int64_t p = 0; p < pixels; ++p) {
      const std::uint8_t index = bytes.samples[static_cast<std::size_t>(p) * channels];
      KILN_CHECK(index == 255 || classes.empty() || index < classes.size(), path, ": ", describe_pixel(p, bytes.width),
                 " has class index ", int{index}, ", but the class list has ", classes.size(),
                 " classes (255 marks ignored pixels)");
      mask.labels[static_cast<std::size_t>(p)] = index == 255 ? ignore_label : index;
    }
    return mask;
  }
  KILN_CHECK(!classes.empty(), path, ": a colour mask needs a class list (classes.json) to map colours to classes");
  std::unordered_map<std::uint32_t, std::int32_t> labels{{colour_key(255, 255, 255), ignore_label}};
  for (std::size_t i = 0; i < classes.size(); ++i) {
    const auto& colour = classes[i].color;
    labels[colour_key(colour[0], colour[1], colour[2])] = static_cast<std::int32_t>(i);
  }
  for (std::int64_t p = 0; p < pixels; ++p) {
    const std::uint8_t* sample = bytes.samples.data() + static_cast<std::size_t>(p) * channels;
    const auto label = labels.find(colour_key(sample[0], sample[1], sample[2]));
    KILN_CHECK(label != labels.end(), path, ": ", describe_pixel(p, bytes.width), " has colour ",
               describe_colour({sample[0], sample[1], sample[2]}),
               ", which no class in the class list has (white marks ignored pixels)");
    mask.labels[static_cast<std::size_t>(p)] = label->second;
  }
  return mask;
}

SegmentationSample read_segmentation_item(const SegmentationItem& item, const ClassList& classes,
                                          std::int32_t ignore_label) {
  SegmentationSample sample{decode_image(item.image), decode_mask(item.mask, classes, ignore_label)};
  KILN_CHECK(sample.image.height == sample.mask.height && sample.image.width == sample.mask.width, item.mask,
             ": the mask is ", sample.mask.height, "x", sample.mask.width, " (height x width) but its image ",
             item.image, " is ", sample.image.height, "x", sample.image.width);
  return sample;
}

Mask resize_mask_nearest(const Mask& mask, std::int64_t height, std::int64_t width) {
  KILN_CHECK(height > 0 && width > 0, "resize_mask_nearest: output size ", height, "x", width, " must be positive");
  Mask resized{height, width, std::vector<std::int32_t>(static_cast<std::size_t>(height * width))};
  for (std::int64_t y = 0; y < height; ++y) {
    const std::int64_t source_y = (2 * y + 1) * mask.height / (2 * height);
    for (std::int64_t x = 0; x < width; ++x) {
      const std::int64_t source_x = (2 * x + 1) * mask.width / (2 * width);
      resized.labels[static_cast<std::size_t>(y * width + x)] =
          mask.labels[static_cast<std::size_t>(source_y * mask.width + source_x)];
    }
  }
  return resized;
}

}  // namespace kiln::data
