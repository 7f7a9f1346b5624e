#include "kiln/models/roomnet.h"

#include <cmath>

namespace kiln::models {

namespace {

// TensorFlow's batch_normalization(momentum=0.99) in kiln's (PyTorch's) convention, and its epsilon.
constexpr double norm_momentum = 0.01;
constexpr double norm_epsilon = 1e-3;

struct ConvStepPlan {
  std::int64_t in, out;
  std::int64_t pool_kernel, pool_stride;  // pool_kernel 0: no pooling
};

// Residual blocks add their first step's output to their last one's.
struct ConvBlockPlan {
  const char* name;
  bool residual;
  std::vector<ConvStepPlan> steps;
};

// The published network (roomnet.md, steps A to E), shared by the builder and the layer table.
const std::vector<ConvBlockPlan>& conv_plan() {
  static const std::vector<ConvBlockPlan> plan = {
      {"block_a", false, {{3, 8, 3, 1}}},
      {"block_b", true, {{8, 32, 4, 1}, {32, 32, 4, 1}, {32, 32, 4, 1}}},
      {"block_c", true, {{32, 64, 4, 2}, {64, 64, 4, 2}}},
      {"block_d", false, {{64, 128, 0, 0}}},
      {"block_e", true, {{128, 16, 4, 2}, {16, 16, 4, 2}, {16, 16, 4, 2}}},
  };
  return plan;
}
// Dense blocks G, H, I (no bias, ReLU6, batch norm), then J (bias, ReLU6) to the classes.
const std::vector<std::pair<const char*, std::int64_t>>& dense_plan() {
  static const std::vector<std::pair<const char*, std::int64_t>> plan = {
      {"dense_g", 32}, {"dense_h", 16}, {"dense_i", 8}};
  return plan;
}
constexpr const char* logits_name = "dense_j";

// The side after a step's VALID 3x3 convolution and VALID pooling: ceil((in - 2 - k + 1) / s).
std::int64_t step_output_side(const ConvStepPlan& step, std::int64_t side, const std::string& where) {
  side -= 2;
  if (step.pool_kernel > 0) {
    KILN_CHECK(side >= step.pool_kernel, "RoomNet: ", where, " gets a ", side, "x", side,
               " map, smaller than its pooling window ", step.pool_kernel,
               " (the input is too small; RoomNet needs at least 183x183)");
    side = (side - step.pool_kernel) / step.pool_stride + 1;
  }
  KILN_CHECK(side > 0, "RoomNet: ", where, " has no output pixels (RoomNet needs at least 183x183)");
  return side;
}

// The channels x height x width of the last feature map for a square input of `side`.
std::int64_t flattened_features(std::int64_t side) {
  std::int64_t channels = 3;
  for (const ConvBlockPlan& block : conv_plan()) {
    for (std::size_t i = 0; i < block.steps.size(); ++i) {
      side = step_output_side(block.steps[i], side, std::string(block.name) + "." + std::to_string(i));
      channels = block.steps[i].out;
    }
  }
  return channels * side * side;
}

// Glorot (Xavier) uniform, TensorFlow's default kernel initialiser: U(-l, l), l = sqrt(6 / (fan_in + fan_out)).
void glorot_uniform(Tensor& weight, std::int64_t fan_in, std::int64_t fan_out, Generator& generator) {
  const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  weight.copy_from(Tensor::uniform(weight.shape(), -limit, limit, generator));
}

std::shared_ptr<nn::BatchNorm> make_norm(std::int64_t channels, std::vector<std::shared_ptr<nn::BatchNorm>>& norms) {
  norms.push_back(std::make_shared<nn::BatchNorm>(channels, norm_momentum, norm_epsilon));
  return norms.back();
}

// conv 3x3 VALID without bias, ReLU6, average pooling (VALID, divisor k^2) when the step pools, batch norm.
class ConvStep : public nn::Module {
 public:
  ConvStep(const ConvStepPlan& plan, Generator& generator, std::vector<std::shared_ptr<nn::BatchNorm>>& norms)
      : pool_(plan.pool_kernel > 0), pool_options_(Pool2dOptions::square(plan.pool_kernel, plan.pool_stride)) {
    conv_ = register_module("conv", std::make_shared<nn::Conv2d>(plan.in, plan.out, 3, generator, Conv2dOptions{},
                                                                 /*with_bias=*/false));
    glorot_uniform(conv_->weight, plan.in * 9, plan.out * 9, generator);
    norm_ = register_module("norm", make_norm(plan.out, norms));
  }
  Tensor forward(const Tensor& input) override {
    Tensor x = relu6(conv_->forward(input));
    if (pool_) x = avg_pool2d(x, pool_options_);
    return norm_->forward(x);
  }

 private:
  bool pool_;
  Pool2dOptions pool_options_;
  std::shared_ptr<nn::Conv2d> conv_;
  std::shared_ptr<nn::BatchNorm> norm_;
};

// Steps "0", "1", ...; a residual block then adds the first step's output, resized to the last one's size with
// TensorFlow 1.x's legacy bilinear sampling (no projection: the channels match), and normalises the sum ("norm").
class ConvBlock : public nn::Module {
 public:
  ConvBlock(const ConvBlockPlan& plan, Generator& generator, std::vector<std::shared_ptr<nn::BatchNorm>>& norms) {
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
      steps_.push_back(register_module(std::to_string(i), std::make_shared<ConvStep>(plan.steps[i], generator, norms)));
    }
    if (plan.residual) residual_norm_ = register_module("norm", make_norm(plan.steps.back().out, norms));
  }
  Tensor forward(const Tensor& input) override {
    const Tensor skip = steps_.front()->forward(input);
    Tensor x = skip;
    for (std::size_t i = 1; i < steps_.size(); ++i) x = steps_[i]->forward(x);
    if (!residual_norm_) return x;
    return residual_norm_->forward(add(x, resize_bilinear(skip, x.size(2), x.size(3), ResizeMode::tf1_legacy)));
  }

 private:
  std::vector<std::shared_ptr<ConvStep>> steps_;
  std::shared_ptr<nn::BatchNorm> residual_norm_;
};

// Fully connected, ReLU6, then batch norm when given one.
class DenseBlock : public nn::Module {
 public:
  DenseBlock(std::int64_t in, std::int64_t out, bool with_bias, std::shared_ptr<nn::BatchNorm> norm,
             Generator& generator) {
    linear_ = register_module("linear", std::make_shared<nn::Linear>(in, out, generator, with_bias));
    glorot_uniform(linear_->weight, in, out, generator);
    if (with_bias) linear_->bias.fill(0);
    if (norm) norm_ = register_module("norm", std::move(norm));
  }
  Tensor forward(const Tensor& input) override {
    const Tensor x = relu6(linear_->forward(input));
    return norm_ ? norm_->forward(x) : x;
  }

 private:
  std::shared_ptr<nn::Linear> linear_;
  std::shared_ptr<nn::BatchNorm> norm_;
};

}  // namespace

Tensor flatten_channels_last(const Tensor& x) {
  KILN_CHECK(x.dim() == 4, "flatten_channels_last: expected [N, C, H, W], got ", describe(x));
  return permute(x, {0, 2, 3, 1}).flatten(1);
}

const std::vector<std::string>& roomnet_class_names() {
  static const std::vector<std::string> names = {"Backyard",  "Bathroom", "Bedroom",
                                                 "Frontyard", "Kitchen",  "LivingRoom"};
  return names;
}

const std::vector<ModelOptionSpec>& RoomNetOptions::specs() {
  static const RoomNetOptions defaults;
  static const std::vector<ModelOptionSpec> specs = {
      {"classes", "N", std::to_string(defaults.classes), "output classes"},
      {"image_size", "N", std::to_string(defaults.image_size), "square input side in pixels (roomnet: 183 or more)",
       {"-i"}},
      // The help of the --dropout flag, which VGG's dropout shares.
      {"dropout", "X", "0", "dropout rate (roomnet: after every block, 0.35 at the end of the published run)"},
  };
  return specs;
}

RoomNetOptions RoomNetOptions::from(const ModelOptions& options) {
  const OptionReader reader("roomnet", specs(), options);
  RoomNetOptions parsed;
  parsed.classes = reader.integer("classes", 1, 1 << 20);
  parsed.image_size = reader.integer("image_size", 183, 1 << 14);
  parsed.dropout = reader.number("dropout", 0, 0.99);
  return parsed;
}

RoomNet::RoomNet(const RoomNetOptions& options, Generator& generator)
    : dropout_generator(generator.below(std::uint64_t(1) << 62)) {
  register_generator("dropout", dropout_generator);
  KILN_CHECK(options.classes > 0, "RoomNet: classes must be positive, got ", options.classes);
  const std::int64_t features = flattened_features(options.image_size);
  for (const ConvBlockPlan& block : conv_plan()) {
    conv_blocks_.push_back(register_module(block.name, std::make_shared<ConvBlock>(block, generator, norms_)));
  }
  std::int64_t in = features;
  for (const auto& [name, out] : dense_plan()) {
    dense_blocks_.push_back(register_module(
        name, std::make_shared<DenseBlock>(in, out, /*with_bias=*/false, make_norm(out, norms_), generator)));
    in = out;
  }
  dense_blocks_.push_back(register_module(
      logits_name, std::make_shared<DenseBlock>(in, options.classes, /*with_bias=*/true, nullptr, generator)));
  dropout_ = register_module("dropout", std::make_shared<nn::Dropout>(options.dropout, dropout_generator));
  features_ = features;
}

Tensor RoomNet::forward(const Tensor& images) {
  KILN_CHECK(images.dim() == 4 && images.size(1) == 3, "RoomNet: expected images [N, 3, H, W], got ", describe(images));
  Tensor x = images;
  for (const auto& block : conv_blocks_) x = dropout_->forward(block->forward(x));
  KILN_CHECK(x.size(1) * x.size(2) * x.size(3) == features_, "RoomNet: input ", shape_str(images.shape()),
             " gives a last feature map of ", shape_str(x.shape()), ", not the ", features_,
             " features the model was built for (its image_size option)");
  x = flatten_channels_last(x);
  for (const auto& block : dense_blocks_) x = dropout_->forward(block->forward(x));
  return x;
}

void RoomNet::set_dropout(double rate) {
  KILN_CHECK(rate >= 0 && rate < 1, "RoomNet: dropout rate must lie in [0, 1), got ", rate);
  dropout_->p = rate;
}

double RoomNet::dropout() const { return dropout_->p; }

void RoomNet::freeze_batch_norm_statistics(bool frozen) {
  for (const auto& norm : norms_) norm->freeze_statistics(frozen);
}

LayerTable roomnet_layer_table(const RoomNetOptions& options) {
  LayerTable table;
  table.input = {3, options.image_size, options.image_size};
  std::int64_t side = options.image_size, channels = 3;
  for (const ConvBlockPlan& block : conv_plan()) {
    std::int64_t skip_side = 0;
    for (std::size_t i = 0; i < block.steps.size(); ++i) {
      const ConvStepPlan& step = block.steps[i];
      const std::string name = std::string(block.name) + "." + std::to_string(i);
      const std::int64_t conv_side = side - 2;
      side = step_output_side(step, side, name);
      if (i == 0) skip_side = side;
      std::string operation = "conv 3x3 " + std::to_string(step.in) + "->" + std::to_string(step.out) + ", relu6";
      if (step.pool_kernel > 0) {
        operation += ", avgpool " + std::to_string(step.pool_kernel) + "/" + std::to_string(step.pool_stride);
      }
      operation += ", bn";
      if (block.residual && i == 0) operation += " (skip)";
      table.rows.push_back({name,
                            operation,
                            {step.out, side, side},
                            step.in * step.out * 9 + 2 * step.out,
                            conv_side * conv_side * step.out * step.in * 9});
      channels = step.out;
    }
    if (block.residual) {
      table.rows.push_back({std::string(block.name) + ".norm",
                            "add skip resized " + std::to_string(skip_side) + "->" + std::to_string(side) + ", bn",
                            {channels, side, side},
                            2 * channels,
                            0});
    }
  }
  std::int64_t in = channels * side * side;
  table.rows.push_back({"flatten", "channels-last (h, w, c) order", {in}, 0, 0});
  for (const auto& [name, out] : dense_plan()) {
    table.rows.push_back({name,
                          "fc " + std::to_string(in) + "->" + std::to_string(out) + ", relu6, bn",
                          {out},
                          in * out + 2 * out,
                          in * out});
    in = out;
  }
  table.rows.push_back({logits_name,
                        "fc " + std::to_string(in) + "->" + std::to_string(options.classes) + " + bias, relu6",
                        {options.classes},
                        in * options.classes + options.classes,
                        in * options.classes});
  return table;
}

ModelFamily roomnet_family() {
  return {"roomnet",
          "the published 6-class room classifier (176,910 parameters at 224x224)",
          Task::classification,
          RoomNetOptions::specs(),
          [](const ModelOptions& options, Generator& generator) {
            return std::make_shared<RoomNet>(RoomNetOptions::from(options), generator);
          },
          [](const ModelOptions& options) { return roomnet_layer_table(RoomNetOptions::from(options)); },
          [](const ModelOptions& options) {
            InputFormat input;
            input.image_size = RoomNetOptions::from(options).image_size;
            input.square_crop = true;
            input.training_normalization = input.weights_normalization = "[-1,1]";
            return input;
          },
          [](const ModelOptions& options) {
            const bool published = RoomNetOptions::from(options).classes ==
                                   static_cast<std::int64_t>(roomnet_class_names().size());
            return published ? roomnet_class_names() : std::vector<std::string>{};
          }};
}

}  // namespace kiln::models
