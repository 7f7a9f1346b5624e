#include "kiln/train/preprocess.h"

#include <nlohmann/json.hpp>

namespace kiln::train {

namespace {
using Json = nlohmann::ordered_json;
}  // namespace

std::string to_json(const Preprocess& preprocess) {
  return Json{{"image_size", preprocess.image_size},
              {"square_crop", preprocess.square_crop},
              {"normalize", preprocess.normalize}}
      .dump();
}

std::optional<Preprocess> read_preprocess(const CheckpointInfo& info) {
  const Json json = Json::parse(info.preprocess, nullptr, false);
  KILN_CHECK(json.is_object(), "checkpoint metadata 'preprocess' is not a JSON object: ", info.preprocess);
  if (json.empty()) return std::nullopt;
  Preprocess preprocess;
  try {
    json.at("image_size").get_to(preprocess.image_size);
    json.at("square_crop").get_to(preprocess.square_crop);
    json.at("normalize").get_to(preprocess.normalize);
  } catch (const Json::exception& error) {
    fail("checkpoint metadata 'preprocess' ", info.preprocess, ": ", error.what());
  }
  KILN_CHECK(preprocess.image_size > 0, "checkpoint metadata 'preprocess': image_size must be positive, got ",
             preprocess.image_size);
  return preprocess;
}

data::ImageTransform inference_transform(const CheckpointInfo& info) {
  const std::optional<Preprocess> preprocess = read_preprocess(info);
  KILN_CHECK(preprocess.has_value(), "the checkpoint of model '", info.model, "' records no image preprocessing "
             "(it was trained on in-memory tensors)");
  KILN_CHECK(info.input.mean.size() == 3, "the checkpoint's input_mean has ", info.input.mean.size(),
             " channels; image models take 3");
  data::ImageTransform transform;
  transform.height = transform.width = preprocess->image_size;
  transform.square_crop = preprocess->square_crop;
  transform.normalization = info.input;
  return transform;
}

}  // namespace kiln::train
