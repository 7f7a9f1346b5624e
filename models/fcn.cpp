#include "kiln/models/fcn.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>

#include "kiln/models/vgg.h"
#include "kiln/nn/layers.h"
#include "kiln/nn/sequential.h"
#include "kiln/safetensors.h"

namespace kiln::models {

namespace {

using Kind = FcnStep::Kind;
using Init = FcnStep::Init;

std::string model_name(std::int64_t stride) { return "fcn" + std::to_string(stride) + "s"; }

std::string text_of(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// The step index `name` refers to: -1 for "" (the previous step), -2 for "image".
std::int64_t step_index(const std::vector<FcnStep>& plan, const std::string& name) {
  if (name.empty()) return -1;
  if (name == "image") return -2;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    if (plan[i].name == name) return static_cast<std::int64_t>(i);
  }
  fail("FCN: the plan refers to an unknown step '", name, "'");
}

Pool2dOptions ceil_pool() {
  Pool2dOptions pool = Pool2dOptions::square(2, 2);
  pool.ceil_mode = true;  // as caffe pools, which the reference's crop offsets assume
  return pool;
}

// Tensors are handles: filling the copies fills the module's parameters.
void initialise(const FcnStep& step, Tensor w, Tensor bias, Generator& generator) {
  if (bias.defined()) bias.fill(0);
  switch (step.init) {
    case Init::kaiming:  // fan_out for a ReLU, as VGG
      w.copy_from(scale(Tensor::randn(w.shape(), generator),
                        std::sqrt(2.0 / static_cast<double>(step.out * step.kernel * step.kernel))));
      break;
    case Init::normal:
      w.copy_from(scale(Tensor::randn(w.shape(), generator), 0.01));
      break;
    case Init::zero:
      w.fill(0);
      break;
    case Init::bilinear: {
      // Each class upsamples itself: the kernel on the diagonal of [in, out], zeros off it.
      const std::vector<float> kernel = bilinear_kernel(step.kernel);
      const std::int64_t area = step.kernel * step.kernel;
      std::vector<float> values(static_cast<std::size_t>(step.in * step.out * area), 0.0f);
      for (std::int64_t c = 0; c < std::min(step.in, step.out); ++c) {
        std::copy(kernel.begin(), kernel.end(), values.begin() + (c * step.out + c) * area);
      }
      w.copy_from(Tensor::from_vector(values, w.shape()));
      break;
    }
  }
}

}  // namespace

std::vector<float> bilinear_kernel(std::int64_t kernel) {
  const double factor = static_cast<double>((kernel + 1) / 2);
  const double centre = kernel % 2 == 1 ? factor - 1 : factor - 0.5;
  std::vector<double> axis;
  for (std::int64_t i = 0; i < kernel; ++i) axis.push_back(1 - std::abs(static_cast<double>(i) - centre) / factor);
  std::vector<float> values;
  for (const double y : axis) {
    for (const double x : axis) values.push_back(static_cast<float>(y * x));
  }
  return values;
}

const std::vector<ModelOptionSpec>& FcnOptions::specs() {
  static const FcnOptions d;
  static const std::vector<ModelOptionSpec> specs = {
      {"classes", "N", std::to_string(d.classes), "output classes"},
      {"image_size", "N", std::to_string(d.image_size), "square input side in pixels", {"-i"}},
      {"channels", "N", std::to_string(d.channels), "first stage's width; the stages use 1, 2, 4, 8, 8 times it"},
      {"classifier_width", "N", std::to_string(d.classifier_width), "width of fc6 and fc7; 0: 4096 x channels / 64"},
      {"dropout", "X", text_of(d.dropout), "dropout rate after fc6 and fc7"},
      {"decoder", "reference|tutorial", d.decoder,
       "reference: score layers on the skips; tutorial: seed 003's, upsampling "
       "to the skips' channels"},
      {"skip_scaling", "true|false", "false", "the reference's pool4 x 0.01 and pool3 x 0.0001"},
      {"input_padding", "N", std::to_string(d.input_padding),
       "conv1_1's padding: 100 lets the crops fit any input size; 1 is plain VGG-16 (fc7 1x1 at 224 px), "
       "for checking the encoder, and misaligns the crops"},
  };
  return specs;
}

FcnOptions FcnOptions::from(std::int64_t stride, const ModelOptions& options) {
  KILN_CHECK(stride == 8 || stride == 16 || stride == 32, "FCN: the variant's stride is 8, 16 or 32, not ", stride);
  const OptionReader reader(model_name(stride), specs(), options);
  FcnOptions parsed;
  parsed.stride = stride;
  parsed.classes = reader.integer("classes", 1, 1 << 20);
  parsed.image_size = reader.integer("image_size", 1, 1 << 14);
  parsed.channels = reader.integer("channels", 1, 1 << 14);
  parsed.classifier_width = reader.integer("classifier_width", 0, 1 << 20);
  parsed.dropout = reader.number("dropout", 0, 0.99);
  parsed.decoder = reader.choice("decoder", {"reference", "tutorial"});
  parsed.skip_scaling = reader.boolean("skip_scaling");
  parsed.input_padding = reader.integer("input_padding", 0, 1 << 10);
  KILN_CHECK(parsed.fc_width() > 0, "model ", model_name(stride),
             ": fc6's width 4096 x channels / 64 is 0 at channels ", parsed.channels, " (give classifier_width)");
  return parsed;
}

std::vector<FcnStep> fcn_plan(const FcnOptions& options) {
  std::vector<FcnStep> plan;
  // The encoder is torchvision's VGG-16 features, so that its names and widths come from VGG's own plan.
  VggOptions vgg;
  vgg.channels = options.channels;
  vgg.layout = "torchvision";
  std::vector<std::string> pools;
  std::int64_t channels = 3;
  for (const VggLayer& layer : vgg_plan(vgg)) {
    if (layer.name.rfind("features.", 0) != 0) continue;
    switch (layer.kind) {
      case VggLayer::Kind::conv:
        // conv1_1's padding (the reference's 100) leaves room for fc6's 7x7 window and the crops at any input size.
        plan.push_back({.kind = Kind::conv,
                        .name = layer.name,
                        .in = layer.in,
                        .out = layer.out,
                        .kernel = layer.kernel,
                        .padding = plan.empty() ? options.input_padding : layer.padding});
        channels = layer.out;
        break;
      case VggLayer::Kind::relu:
        plan.push_back({.kind = Kind::relu, .name = layer.name});
        break;
      case VggLayer::Kind::max_pool:
        plan.push_back({.kind = Kind::max_pool, .name = layer.name});
        pools.push_back(layer.name);
        break;
      default:
        fail("FCN: VGG's features hold an unexpected layer ", layer.name);
    }
  }
  const std::int64_t fc = options.fc_width(), classes = options.classes;
  const bool tutorial = options.decoder == "tutorial";
  const Init score_init = tutorial ? Init::normal : Init::zero;
  const Init upscore_init = tutorial ? Init::normal : Init::bilinear;
  const auto conv = [&](const std::string& name, std::int64_t in, std::int64_t out, std::int64_t kernel, Init init,
                        const std::string& input = "") {
    plan.push_back(
        {.kind = Kind::conv, .name = name, .in = in, .out = out, .kernel = kernel, .init = init, .input = input});
  };
  const auto upscore = [&](const std::string& name, std::int64_t in, std::int64_t out, std::int64_t kernel,
                           std::int64_t stride) {
    // Bias-free as the reference; the tutorial's layers have biases.
    plan.push_back({.kind = Kind::upscore,
                    .name = name,
                    .in = in,
                    .out = out,
                    .kernel = kernel,
                    .stride = stride,
                    .bias = tutorial,
                    .init = upscore_init});
  };
  conv("fc6", channels, fc, 7, Init::normal);
  plan.push_back({.kind = Kind::relu, .name = "relu6"});
  plan.push_back({.kind = Kind::dropout, .name = "drop6"});
  conv("fc7", fc, fc, 1, Init::normal);
  plan.push_back({.kind = Kind::relu, .name = "relu7"});
  plan.push_back({.kind = Kind::dropout, .name = "drop7"});
  conv("score_fr", fc, classes, 1, score_init);

  // Skips from pool4 (cropped at 5 to the 2x upsampled map) and pool3 (at 9), as many as the variant has.
  struct Skip {
    std::string pool, name;
    std::int64_t channels, offset;
    double factor;
  };
  const std::vector<Skip> all_skips = {{pools[3], "pool4", 8 * options.channels, 5, 0.01},
                                       {pools[2], "pool3", 4 * options.channels, 9, 0.0001}};
  const std::size_t skips = options.stride == 8 ? 2 : options.stride == 16 ? 1 : 0;
  channels = classes;
  std::string upsampled = "upscore2";
  for (std::size_t s = 0; s < skips; ++s) {
    const Skip& skip = all_skips[s];
    const std::int64_t out = tutorial ? skip.channels : classes;
    upscore(upsampled, channels, out, 4, 2);
    std::string tap = skip.pool;
    if (options.skip_scaling) {
      plan.push_back({.kind = Kind::scale, .name = "scale_" + skip.name, .input = tap, .factor = skip.factor});
      tap = plan.back().name;
    }
    const std::string scored = tutorial ? skip.name : "score_" + skip.name;
    if (!tutorial) {
      conv(scored, skip.channels, classes, 1, score_init, tap);
      tap = scored;
    }
    plan.push_back({.kind = Kind::crop, .name = scored + "c", .input = tap, .other = upsampled, .offset = skip.offset});
    plan.push_back({.kind = Kind::add, .name = "fuse_" + skip.name, .input = upsampled, .other = scored + "c"});
    channels = out;
    upsampled = "upscore_" + skip.name;
  }
  // The last upsampling to the input's resolution, and the crop aligning it with the input. The offsets follow from the
  // layers' centres (input pixel x lies at 32 f + 12.5 of fc7's map f): 19, 27, 31 for strides 32, 16, 8.
  upscore("upscore" + std::to_string(options.stride), channels, classes, options.stride == 32 ? 64 : 2 * options.stride,
          options.stride);
  plan.push_back({.kind = Kind::crop,
                  .name = "score",
                  .other = "image",
                  .offset = options.stride == 32   ? 19
                            : options.stride == 16 ? 27
                                                   : 31});
  return plan;
}

Fcn::Fcn(const FcnOptions& options, Generator& generator)
    : dropout_generator(generator.below(std::uint64_t(1) << 62)),
      plan_(fcn_plan(options)),
      encoder_steps_(static_cast<std::size_t>(step_index(plan_, "drop7")) + 1) {
  register_generator("dropout", dropout_generator);
  auto features = register_module("features", std::make_shared<nn::Sequential>());
  for (const FcnStep& step : plan_) {
    const bool feature = step.name.rfind("features.", 0) == 0;
    std::shared_ptr<nn::Module> module;
    switch (step.kind) {
      case Kind::conv: {
        auto conv = std::make_shared<nn::Conv2d>(step.in, step.out, step.kernel, generator,
                                                 Conv2dOptions::square(step.stride, step.padding), step.bias);
        initialise(step, conv->weight, conv->bias, generator);
        module = conv;
        break;
      }
      case Kind::upscore: {
        auto upscore = std::make_shared<nn::ConvTranspose2d>(step.in, step.out, step.kernel, generator,
                                                             ConvTranspose2dOptions::square(step.stride, 0), step.bias);
        initialise(step, upscore->weight, upscore->bias, generator);
        module = upscore;
        break;
      }
      case Kind::relu:
        module = std::make_shared<nn::ReLU>();
        break;
      case Kind::max_pool:
        module = std::make_shared<nn::MaxPool2d>(ceil_pool());
        break;
      case Kind::dropout:
        module = std::make_shared<nn::Dropout>(options.dropout, dropout_generator);
        break;
      case Kind::scale:
      case Kind::crop:
      case Kind::add:
        break;
    }
    if (module && feature) {
      features->add(module);
      KILN_CHECK(step.name == "features." + std::to_string(features->size() - 1), "FCN: the plan names ", step.name,
                 " but the module is features.", features->size() - 1);
    } else if (module) {
      register_module(step.name, module);
    }
    modules_.push_back(module.get());
  }
  kept_.assign(plan_.size(), false);
  for (const FcnStep& step : plan_) {
    inputs_.push_back(step_index(plan_, step.input));
    others_.push_back(step_index(plan_, step.other));
    for (const std::int64_t read : {inputs_.back(), others_.back()}) {
      if (read >= 0) kept_[static_cast<std::size_t>(read)] = true;
    }
  }
}

Tensor Fcn::forward(const Tensor& images) { return run(images, plan_.size()); }

Tensor Fcn::encode(const Tensor& images) { return run(images, encoder_steps_); }

Tensor Fcn::run(const Tensor& images, std::size_t steps) {
  KILN_CHECK(images.dim() == 4 && images.size(1) == 3, "FCN: expected images [N, 3, H, W], got ", describe(images));
  std::vector<Tensor> kept(steps);
  const auto value = [&](std::int64_t index, const Tensor& previous) {
    return index == -1 ? previous : index == -2 ? images : kept[static_cast<std::size_t>(index)];
  };
  Tensor x = images;
  for (std::size_t i = 0; i < steps; ++i) {
    const FcnStep& step = plan_[i];
    const Tensor input = value(inputs_[i], x);
    switch (step.kind) {
      case Kind::scale:
        x = scale(input, step.factor);
        break;
      case Kind::crop: {
        const Tensor& reference = value(others_[i], x);
        x = crop2d(input, step.offset, step.offset, reference.size(2), reference.size(3));
        break;
      }
      case Kind::add:
        x = add(input, value(others_[i], x));
        break;
      default:
        x = modules_[i]->forward(input);
    }
    if (kept_[i]) kept[i] = x;
  }
  return x;
}

LayerTable fcn_layer_table(const FcnOptions& options) {
  const std::vector<FcnStep> plan = fcn_plan(options);
  LayerTable table;
  table.input = {3, options.image_size, options.image_size};
  std::vector<Shape> shapes;
  for (const FcnStep& step : plan) {
    const std::int64_t input = step_index(plan, step.input), other = step_index(plan, step.other);
    const auto shape_of = [&](std::int64_t index) {
      return index == -1   ? (shapes.empty() ? table.input : shapes.back())
             : index == -2 ? table.input
                           : shapes[static_cast<std::size_t>(index)];
    };
    const Shape in = shape_of(input);
    LayerRow row{step.name, "", in, 0, 0};
    const std::string kernel = std::to_string(step.kernel) + "x" + std::to_string(step.kernel);
    const std::string channels = std::to_string(step.in) + "->" + std::to_string(step.out);
    switch (step.kind) {
      case Kind::conv: {
        const std::int64_t h = in[1] + 2 * step.padding - step.kernel + 1,
                           w = in[2] + 2 * step.padding - step.kernel + 1;
        KILN_CHECK(h > 0 && w > 0, "FCN: ", step.name, " gets a ", in[1], "x", in[2], " map, too small for its kernel");
        row.output = {step.out, h, w};
        row.operation = "conv " + kernel + " " + channels + " pad " + std::to_string(step.padding);
        row.parameters = step.out * step.in * step.kernel * step.kernel + (step.bias ? step.out : 0);
        row.multiply_accumulates = h * w * step.out * step.in * step.kernel * step.kernel;
        break;
      }
      case Kind::upscore: {
        const std::int64_t h = (in[1] - 1) * step.stride + step.kernel, w = (in[2] - 1) * step.stride + step.kernel;
        row.output = {step.out, h, w};
        row.operation = "transposed conv " + kernel + "/" + std::to_string(step.stride) + " " + channels;
        row.parameters = step.in * step.out * step.kernel * step.kernel + (step.bias ? step.out : 0);
        row.multiply_accumulates = in[1] * in[2] * step.in * step.out * step.kernel * step.kernel;
        break;
      }
      case Kind::relu:
        row.operation = "relu";
        break;
      case Kind::max_pool:
        row.output = {in[0], (in[1] - 1) / 2 + 1, (in[2] - 1) / 2 + 1};  // ceil((side - 2) / 2) + 1
        row.operation = "max pool 2/2 ceil";
        break;
      case Kind::dropout:
        row.operation = "dropout " + text_of(options.dropout);
        break;
      case Kind::scale:
        row.operation = "scale " + text_of(step.factor);
        break;
      case Kind::crop: {
        const Shape reference = shape_of(other);
        KILN_CHECK(in[1] >= step.offset + reference[1] && in[2] >= step.offset + reference[2], "FCN: ", step.name,
                   " crops a ", reference[1], "x", reference[2], " window at ", step.offset, " from a ", in[1], "x",
                   in[2], " map");
        row.output = {in[0], reference[1], reference[2]};
        row.operation = "crop at " + std::to_string(step.offset) + " to " + (other == -2 ? "the input" : step.other);
        break;
      }
      case Kind::add:
        row.operation = "add " + step.other;
        break;
    }
    shapes.push_back(row.output);
    table.rows.push_back(row);
  }
  return table;
}

void load_fcn_encoder(nn::Module& model, const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  std::vector<std::pair<Tensor, Tensor>> copies;  // (parameter, stored), all checked before any is copied
  for (const nn::NamedParameter& parameter : model.named_parameters()) {
    const std::string& name = parameter.name;
    const Shape& shape = parameter.tensor.shape();
    std::string source = name;
    Shape expected = shape;
    if (name.starts_with("fc6.") || name.starts_with("fc7.")) {
      // torchvision's fully connected fc6 and fc7 read the flattened map: weights [out, in x kernel x kernel].
      source = (name[2] == '6' ? "classifier.0" : "classifier.3") + name.substr(3);
      if (shape.size() == 4) expected = {shape[0], shape[1] * shape[2] * shape[3]};
    } else if (!name.starts_with("features.")) {
      continue;  // the decoder keeps its initialisation
    }
    const bool unloadable = std::find(file.skipped.begin(), file.skipped.end(), source) != file.skipped.end();
    KILN_CHECK(!unloadable, path, ": tensor '", source, "' has a dtype kiln cannot load (float32 or float64 expected)");
    KILN_CHECK(file.contains(source), path, ": missing tensor '", source, "' (", name, " needs ", shape_str(expected),
               ")");
    const Tensor& stored = file.at(source);
    KILN_CHECK(stored.shape() == expected, path, ": tensor '", source, "' has shape ", shape_str(stored.shape()), ", ",
               name, " needs ", shape_str(expected), " (the model's channels and classifier_width must fit the file)");
    copies.emplace_back(parameter.tensor, stored);
  }
  // 26 convolution tensors and fc6's and fc7's four: anything else is not an FCN encoder.
  KILN_CHECK(copies.size() == 30, "load_fcn_encoder: the model is not an FCN (", copies.size(),
             " encoder tensors instead of 30)");
  for (auto& [parameter, stored] : copies) parameter.copy_from(stored.to(parameter.dtype()).reshape(parameter.shape()));
}

namespace {

ModelFamily fcn_family(std::int64_t stride, const std::string& summary) {
  return {model_name(stride),
          summary,
          Task::segmentation,
          FcnOptions::specs(),
          [stride](const ModelOptions& options, Generator& generator) {
            return std::make_shared<Fcn>(FcnOptions::from(stride, options), generator);
          },
          [stride](const ModelOptions& options) { return fcn_layer_table(FcnOptions::from(stride, options)); },
          [stride](const ModelOptions& options) {
            InputFormat input;
            input.image_size = FcnOptions::from(stride, options).image_size;
            input.training_normalization = input.weights_normalization = "imagenet";
            return input;
          },
          {},
          load_fcn_encoder};
}

}  // namespace

ModelFamily fcn8s_family() {
  return fcn_family(8,
                    "FCN-8s segmenter on VGG-16 (skips from pool4 and "
                    "pool3), reference or seed-003 decoder");
}
ModelFamily fcn16s_family() { return fcn_family(16, "FCN-16s segmenter on VGG-16 (a skip from pool4)"); }
ModelFamily fcn32s_family() { return fcn_family(32, "FCN-32s segmenter on VGG-16 (no skips)"); }

}  // namespace kiln::models
