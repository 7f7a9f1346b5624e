#pragma once
// A model family: the one home of what kiln knows about a kind of model: its name, its options (which the command
// line's model flags and every model list in help texts are generated from), its task, its input format and
// preprocessing, its default class names, its builder, its layer table and the pretrained encoder it loads, if any. The
// tools, the trainer and checkpoints ask the family; nothing outside models/ compares a model's name. Families are
// listed in registry.cpp.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kiln/models/layer_table.h"
#include "kiln/models/options.h"
#include "kiln/nn/module.h"

namespace kiln::models {

// What a model's output is trained against; the trainer's task (kiln/train/task.h) follows from it.
enum class Task { classification, segmentation };
const char* task_name(Task task);

// How an image becomes the model's input, for the options given.
struct InputFormat {
  std::int64_t channels = 3;        // 3: RGB; 1: gray (the luminance of the decoded RGB)
  std::int64_t image_size = 224;    // the square side the model reads
  bool square_crop = false;         // the published pipeline takes the centre square of the longer side first
  std::int64_t resize_shorter = 0;  // > 0: shorter side resized to this and the centre cropped (torchvision's eval)
  // Normalisation: a preset name (data::normalization_preset) or "computed" (the training images' statistics).
  std::string training_normalization = "computed";  // kiln train's default
  std::string weights_normalization = "[0,1]";      // what weights trained elsewhere expect (kiln predict --weights)
  // False for nets that train on in-memory tensors only (the Fashion-MNIST nets on the IDX files).
  bool trains_on_image_files = true;
};

struct ModelFamily {
  std::string name;     // "vgg"
  std::string summary;  // one line for help texts
  Task task = Task::classification;
  std::vector<ModelOptionSpec> options;
  // Each takes the options as given (absent keys take their spec's default) and throws kiln::Error naming the model
  // and the option when one is unknown or bad.
  std::function<std::shared_ptr<nn::Module>(const ModelOptions&, Generator&)> build;
  std::function<LayerTable(const ModelOptions&)> describe;
  std::function<InputFormat(const ModelOptions&)> input;
  // The class names the family is known to be trained with (RoomNet's six rooms); empty: numbered "0", "1", ...
  std::function<std::vector<std::string>(const ModelOptions&)> class_names;
  // Loads pretrained encoder weights (FCN: torchvision's VGG-16) from the file at `path` into a model the family built,
  // throwing kiln::Error naming the file and the tensor on a mismatch; empty for families without such an encoder.
  std::function<void(nn::Module&, const std::string& path)> load_encoder = {};
};

}  // namespace kiln::models
