#include "tools/input_format.h"

#include <nlohmann/json.hpp>

#include "kiln/error.h"
#include "kiln/models/registry.h"
#include "kiln/train/preprocess.h"

namespace kiln::tools {

InputFormat input_format(const std::string& model, const models::ModelOptions& options,
                         const data::Normalization& normalization) {
  const models::InputFormat input = models::model_input(model, options);
  InputFormat format;
  format.channels = input.channels;
  format.transform.height = format.transform.width = input.image_size;
  format.transform.square_crop = input.square_crop;
  format.transform.resize_shorter = input.resize_shorter;
  const auto channels = static_cast<std::size_t>(format.channels);
  KILN_CHECK(normalization.mean.size() == channels && normalization.std.size() == channels, "model '", model,
             "' reads ", channels, " channel(s) but the input normalisation has ", normalization.mean.size(),
             " mean(s) and ", normalization.std.size(), " standard deviation(s)");
  // transform_image normalises three planes; a gray model's one channel is normalised alike in each.
  format.transform.normalization =
      channels == 3 ? normalization
                    : data::Normalization{std::vector<double>(3, normalization.mean[0]),
                                           std::vector<double>(3, normalization.std[0])};
  return format;
}

InputFormat input_format(const train::CheckpointInfo& info) {
  if (train::read_preprocess(info)) return {train::inference_transform(info), 3};
  models::ModelOptions options;
  try {
    options = nlohmann::json::parse(info.model_options).get<models::ModelOptions>();
  } catch (const nlohmann::json::exception& error) {
    fail("checkpoint metadata 'model_options' is not a JSON object of strings: ", error.what());
  }
  return input_format(info.model, options, info.input);
}

Tensor to_model_channels(const Tensor& images, const InputFormat& format) {
  KILN_CHECK(images.dim() == 4 && images.size(1) == 3, "to_model_channels: expected images [N, 3, H, W], got ",
             describe(images));
  if (format.channels == 3) return images;
  const Tensor rgb = images.cpu();
  const std::int64_t count = rgb.size(0), plane = rgb.size(2) * rgb.size(3);
  std::vector<float> gray(static_cast<std::size_t>(count * plane));
  const float* in = rgb.data<float>();
  for (std::int64_t n = 0; n < count; ++n) {
    const float* red = in + n * 3 * plane;
    for (std::int64_t i = 0; i < plane; ++i) {
      gray[static_cast<std::size_t>(n * plane + i)] =
          0.299f * red[i] + 0.587f * red[plane + i] + 0.114f * red[2 * plane + i];
    }
  }
  return Tensor::from_vector(gray, {count, 1, rgb.size(2), rgb.size(3)});
}

}  // namespace kiln::tools
