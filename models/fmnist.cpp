#include "kiln/models/fmnist.h"

namespace kiln::models {

namespace {

constexpr std::int64_t fmnist_side = 28;

// Appends layer rows, each advancing `shape` (per image) to that layer's output.
class TableBuilder {
 public:
  TableBuilder() : shape_{1, fmnist_side, fmnist_side} { table_.input = shape_; }
  void conv3x3(const std::string& name, std::int64_t out, std::int64_t padding, const std::string& then = "") {
    const std::int64_t in = shape_[0], side = shape_[1] + 2 * padding - 2;
    shape_ = {out, side, side};
    add(name, "conv 3x3 " + std::to_string(in) + "->" + std::to_string(out) + (padding > 0 ? " pad 1" : "") + then,
        in * out * 9 + out, side * side * out * in * 9);
  }
  void max_pool(const std::string& name, std::int64_t kernel) {
    shape_ = {shape_[0], shape_[1] / kernel, shape_[2] / kernel};
    add(name, "max pool " + std::to_string(kernel) + "/" + std::to_string(kernel), 0, 0);
  }
  void flatten(const std::string& name) {
    shape_ = {shape_[0] * shape_[1] * shape_[2]};
    add(name, "flatten", 0, 0);
  }
  void linear(const std::string& name, std::int64_t out, const std::string& then = "") {
    const std::int64_t in = shape_[0];
    shape_ = {out};
    add(name, "fc " + std::to_string(in) + "->" + std::to_string(out) + then, in * out + out, in * out);
  }
  void batch_norm(const std::string& name) { add(name, "batch norm", 2 * shape_[0], 0); }
  void step(const std::string& name, const std::string& operation) { add(name, operation, 0, 0); }
  LayerTable table() const { return table_; }

 private:
  void add(const std::string& name, const std::string& operation, std::int64_t parameters, std::int64_t macs) {
    table_.rows.push_back({name, operation, shape_, parameters, macs});
  }
  LayerTable table_;
  Shape shape_;
};

}  // namespace

FmnistSmall::FmnistSmall(Generator& generator) {
  conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(1, 32, 3, generator));
  conv2_ = register_module("conv2", std::make_shared<nn::Conv2d>(32, 32, 3, generator));
  fc1_ = register_module("fc1", std::make_shared<nn::Linear>(288, 120, generator));
  fc2_ = register_module("fc2", std::make_shared<nn::Linear>(120, 10, generator));
}

Tensor FmnistSmall::forward(const Tensor& images) {
  // conv1, relu, max pool as one fused op (kiln/ops/fused.h): the same values and gradients, but conv1's output,
  // 22 MB a batch, never goes to memory. conv2's output is a fifth of that and its gemms gain from whole batches, so
  // there only relu and the pool are fused (relu_max_pool2d is max_pool2d(relu(x)) bit for bit).
  const Tensor pooled1 = conv2d_relu_max_pool2d(images, conv1_->weight, conv1_->bias, conv1_->options,
                                                Pool2dOptions::square(2, 2));                      // 32 x 13 x 13
  const Tensor x = relu_max_pool2d(conv2_->forward(pooled1), Pool2dOptions::square(3, 3));  // 32 x 3 x 3
  return fc2_->forward(relu(fc1_->forward(x.flatten(1))));
}

FmnistBn::FmnistBn(Generator& generator) : dropout_generator(generator.below(std::uint64_t(1) << 62)) {
  register_generator("dropout", dropout_generator);
  features_ = register_module("features", std::make_shared<nn::Sequential>());
  const auto conv_bn_relu = [&](std::int64_t in, std::int64_t out) {
    features_->add(std::make_shared<nn::Conv2d>(in, out, 3, generator, Conv2dOptions::square(1, 1)));
    features_->add(std::make_shared<nn::BatchNorm>(out));
    features_->add(std::make_shared<nn::ReLU>());
  };
  conv_bn_relu(1, 16);
  conv_bn_relu(16, 16);
  features_->add(std::make_shared<nn::MaxPool2d>(Pool2dOptions::square(2, 2)));
  conv_bn_relu(16, 32);
  conv_bn_relu(32, 32);
  features_->add(std::make_shared<nn::MaxPool2d>(Pool2dOptions::square(2, 2)));
  classifier_ = register_module("classifier", std::make_shared<nn::Sequential>());
  classifier_->add(std::make_shared<nn::Flatten>());
  classifier_->add(std::make_shared<nn::Linear>(32 * 7 * 7, 128, generator));
  classifier_->add(std::make_shared<nn::BatchNorm>(128));
  classifier_->add(std::make_shared<nn::ReLU>());
  classifier_->add(std::make_shared<nn::Dropout>(0.3, dropout_generator));
  classifier_->add(std::make_shared<nn::Linear>(128, 10, generator));
}

Tensor FmnistBn::forward(const Tensor& images) { return classifier_->forward(features_->forward(images)); }

LayerTable fmnist_small_layer_table() {
  TableBuilder builder;
  builder.conv3x3("conv1", 32, 0, ", relu");
  builder.max_pool("pool1", 2);
  builder.conv3x3("conv2", 32, 0, ", relu");
  builder.max_pool("pool2", 3);
  builder.flatten("flatten");
  builder.linear("fc1", 120, ", relu");
  builder.linear("fc2", 10);
  return builder.table();
}

LayerTable fmnist_bn_layer_table() {
  TableBuilder builder;
  int index = 0;
  const auto next = [&index](const char* part) { return std::string(part) + "." + std::to_string(index++); };
  const auto conv_bn_relu = [&](std::int64_t out) {
    builder.conv3x3(next("features"), out, 1);
    builder.batch_norm(next("features"));
    builder.step(next("features"), "relu");
  };
  conv_bn_relu(16);
  conv_bn_relu(16);
  builder.max_pool(next("features"), 2);
  conv_bn_relu(32);
  conv_bn_relu(32);
  builder.max_pool(next("features"), 2);
  index = 0;
  builder.flatten(next("classifier"));
  builder.linear(next("classifier"), 128);
  builder.batch_norm(next("classifier"));
  builder.step(next("classifier"), "relu");
  builder.step(next("classifier"), "dropout 0.3");
  builder.linear(next("classifier"), 10);
  return builder.table();
}

namespace {

// Fashion-MNIST's classes, the names the nets predict (data/idx.cpp reads the same set; a test keeps them equal).
std::vector<std::string> fashion_mnist_names(const ModelOptions&) {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
}

InputFormat gray_28(const ModelOptions&) {
  InputFormat input;
  input.channels = 1;
  input.image_size = fmnist_side;
  input.weights_normalization = "[0,1]";  // raw pixels; kiln train normalises with the training split's statistics
  input.trains_on_image_files = false;
  return input;
}

const std::vector<ModelOptionSpec> no_options;  // OptionReader rejects any option given

template <class Model>
ModelFamily fixed_family(std::string name, std::string summary, LayerTable (*layer_table)()) {
  const std::string model = name;
  return {std::move(name),
          std::move(summary),
          Task::classification,
          no_options,
          [model](const ModelOptions& options, Generator& generator) -> std::shared_ptr<nn::Module> {
            OptionReader(model, no_options, options);
            return std::make_shared<Model>(generator);
          },
          [model, layer_table](const ModelOptions& options) {
            OptionReader(model, no_options, options);
            return layer_table();
          },
          gray_28,
          fashion_mnist_names};
}

}  // namespace

ModelFamily fmnist_small_family() {
  return fixed_family<FmnistSmall>("fmnist-small", "the seed project's small Fashion-MNIST net (45,458 parameters)",
                                   fmnist_small_layer_table);
}

ModelFamily fmnist_bn_family() {
  return fixed_family<FmnistBn>("fmnist-bn", "kiln's Fashion-MNIST net with batch norm and dropout",
                                fmnist_bn_layer_table);
}

}  // namespace kiln::models
