#include "tools/model_flags.h"

namespace kiln::tools {

namespace {

struct ModelFlag {
  cli::Option option;
  std::string key;  // the model option it sets
};

const std::vector<ModelFlag>& flag_table() {
  static const std::vector<ModelFlag> table = {
      {{"--classes", {}, "N", "output classes (roomnet 6, vgg 1000)", ""}, "classes"},
      {{"--image-size", {"-i"}, "N", "square input side in pixels (224)", ""}, "image_size"},
      {{"--dropout", {}, "X", "dropout rate (roomnet: after every block, 0; vgg: classifier, 0.5)", ""}, "dropout"},
      {{"--depth", {"-d"}, "N", "vgg: 11, 13, 16 or 19 weight layers (16)", ""}, "depth"},
      {{"--conv1x1", {"-c11"}, "", "vgg: configuration C, 1x1 last convolution in stages 3-5 (depth 16)", ""},
       "conv1x1"},
      {{"--pad-1x1", {}, "", "vgg: the seed's quirk, 1x1 convolutions keep padding 1", ""}, "padded_1x1"},
      {{"--batch-norm", {}, "", "vgg: batch norm after every convolution", ""}, "batch_norm"},
      {{"--channels", {}, "N", "vgg: first stage's width, the others 2, 4, 8, 8 times it (64)", ""}, "channels"},
      {{"--classifier-width", {}, "N", "vgg: hidden classifier layers' width (4096)", ""}, "classifier_width"},
      {{"--pool", {}, "avg|max", "vgg: adaptive pooling before the classifier (avg)", ""}, "pool"},
      {{"--pool-grid", {}, "N", "vgg: the adaptive pool's output is N x N (7)", ""}, "pool_grid"},
      {{"--layout", {}, "kiln|torchvision", "vgg: module layout; torchvision loads its state dicts (kiln)", ""},
       "layout"},
  };
  return table;
}

}  // namespace

std::vector<cli::Option> model_flags() {
  std::vector<cli::Option> options;
  for (const ModelFlag& flag : flag_table()) options.push_back(flag.option);
  return options;
}

models::ModelOptions model_options_from(const cli::Arguments& arguments) {
  models::ModelOptions options;
  for (const ModelFlag& flag : flag_table()) {
    if (!arguments.has(flag.option.name)) continue;
    options[flag.key] = flag.option.value_name.empty() ? "true" : arguments.text(flag.option.name);
  }
  return options;
}

}  // namespace kiln::tools
