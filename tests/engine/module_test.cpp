#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>

#include "kiln/kiln.h"

using namespace kiln;
using nn::ParameterKind;

namespace {

// A module with its own parameter and buffer next to children, and a record of its on_train calls.
class Net : public nn::Module {
 public:
  explicit Net(Generator& generator) {
    features = register_module("features", std::make_shared<nn::Sequential>());
    features->add(std::make_shared<nn::Conv2d>(1, 4, 3, generator));
    features->add(std::make_shared<nn::ReLU>());
    batch_norm = features->add(std::make_shared<nn::BatchNorm>(4));
    dropout = features->add(std::make_shared<nn::Dropout>(0.5, generator));
    classifier = register_module("classifier", std::make_shared<nn::Linear>(4, 3, generator));
    scale = register_parameter("scale", Tensor::ones({1}));
    steps = register_buffer("steps", Tensor::zeros({1}));
  }
  Tensor forward(const Tensor& input) override { return classifier->forward(input); }

  void register_twice() { register_buffer("scale", Tensor::zeros({1})); }
  void register_dotted() { register_parameter("a.b", Tensor::zeros({1})); }

  std::shared_ptr<nn::Sequential> features;
  std::shared_ptr<nn::BatchNorm> batch_norm;
  std::shared_ptr<nn::Dropout> dropout;
  std::shared_ptr<nn::Linear> classifier;
  Tensor scale, steps;
  std::vector<bool> train_calls;

 protected:
  void on_train(bool on) override { train_calls.push_back(on); }
};

std::vector<std::string> names_of(const std::vector<nn::NamedParameter>& parameters) {
  std::vector<std::string> names;
  for (const auto& parameter : parameters) names.push_back(parameter.name);
  return names;
}

double max_abs(const Tensor& tensor) {
  double largest = 0;
  for (const double value : tensor.to_vector_f64()) largest = std::max(largest, std::abs(value));
  return largest;
}

}  // namespace

TEST_CASE("module: parameters and buffers carry dotted names in registration order", "[module]") {
  Generator generator(1);
  nn::Sequential sequential;
  sequential.add(std::make_shared<nn::Conv2d>(3, 8, 3, generator));
  sequential.add(std::make_shared<nn::ReLU>());
  sequential.add(std::make_shared<nn::BatchNorm>(8));
  sequential.add(std::make_shared<nn::Flatten>());
  sequential.add(std::make_shared<nn::Linear>(8, 10, generator));
  const auto parameters = sequential.named_parameters();
  CHECK(names_of(parameters) ==
        std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"});
  const std::vector<ParameterKind> kinds = {ParameterKind::weight, ParameterKind::bias, ParameterKind::norm,
                                            ParameterKind::norm,   ParameterKind::weight, ParameterKind::bias};
  for (std::size_t i = 0; i < parameters.size(); ++i) CHECK(parameters[i].kind == kinds[i]);
  const auto buffers = sequential.named_buffers();
  REQUIRE(buffers.size() == 2);
  CHECK(buffers[0].name == "2.running_mean");
  CHECK(buffers[1].name == "2.running_var");
  CHECK(sequential.size() == 5);
  // Handles on the layers are the registered tensors themselves.
  CHECK(parameters[0].tensor.same(std::static_pointer_cast<nn::Conv2d>(sequential[0])->weight));
  CHECK(parameters[0].tensor.requires_grad());
  CHECK_FALSE(buffers[0].tensor.requires_grad());

  Net net(generator);
  CHECK(names_of(net.named_parameters()) ==
        std::vector<std::string>{"scale", "features.0.weight", "features.0.bias", "features.2.weight",
                                 "features.2.bias", "classifier.weight", "classifier.bias"});
  const auto net_buffers = net.named_buffers();
  REQUIRE(net_buffers.size() == 3);
  CHECK(net_buffers[0].name == "steps");
  CHECK(net_buffers[2].name == "features.2.running_var");
  CHECK(net.parameters().size() == 7);
  CHECK_THROWS_WITH(net.register_twice(), Catch::Contains("'scale' is already registered"));
  CHECK_THROWS_WITH(net.register_dotted(), Catch::Contains("'a.b'"));
}

TEST_CASE("module: parameter counts", "[module]") {
  Generator generator(2);
  CHECK(nn::Conv2d(3, 8, 3, generator).parameter_count() == 224);
  CHECK(nn::Conv2d(3, 8, 3, generator, {}, false).parameter_count() == 216);
  CHECK(nn::ConvTranspose2d(4, 2, 3, generator).parameter_count() == 74);
  CHECK(nn::Linear(10, 5, generator).parameter_count() == 55);
  CHECK(nn::BatchNorm(8).parameter_count() == 16);  // buffers do not count
  Net net(generator);
  CHECK(net.parameter_count() == 1 + 40 + 8 + 15);
  CHECK_THROWS_WITH(nn::Linear(0, 5, generator), Catch::Contains("Linear") && Catch::Contains("in_features"));
}

// GCC 12 tuned for Ice Lake or newer miscompiled exactly this (the defaulted {1, 1, 0, 0} arrived as four 1s, so the
// convolution padded); CMakeLists.txt picks the target that avoids it, and this test fails if that regresses.
TEST_CASE("module: a Conv2d built with default options has stride 1 and no padding", "[module]") {
  Generator generator(2);
  nn::Conv2d conv(1, 2, 3, generator);
  CHECK(conv.options.stride_h == 1);
  CHECK(conv.options.stride_w == 1);
  CHECK(conv.options.pad_h == 0);
  CHECK(conv.options.pad_w == 0);
  CHECK(conv.forward(Tensor::zeros({1, 1, 28, 28})).shape() == Shape{1, 2, 26, 26});
}

TEST_CASE("module: initialisation follows PyTorch's bounds and the seed", "[module]") {
  Generator generator(3);
  // Conv2d(3, 8, 3): fan_in 27. 216 uniform draws reach close to the bound.
  const nn::Conv2d conv(3, 8, 3, generator);
  CHECK(max_abs(conv.weight) <= 1 / std::sqrt(27.0));
  CHECK(max_abs(conv.weight) > 0.9 / std::sqrt(27.0));
  CHECK(max_abs(conv.bias) <= 1 / std::sqrt(27.0));
  // ConvTranspose2d(4, 6, 3): weight [4, 6, 3, 3], fan_in from dim 1: 6 * 9 = 54 (not 4 * 9 = 36).
  const nn::ConvTranspose2d transposed(4, 6, 3, generator);
  CHECK(transposed.weight.shape() == Shape{4, 6, 3, 3});
  CHECK(max_abs(transposed.weight) <= 1 / std::sqrt(54.0));
  CHECK(max_abs(transposed.weight) > 0.9 / std::sqrt(54.0));
  CHECK(max_abs(transposed.bias) <= 1 / std::sqrt(54.0));
  // Linear(20, 30): fan_in 20.
  const nn::Linear linear_layer(20, 30, generator);
  CHECK(linear_layer.weight.shape() == Shape{30, 20});
  CHECK(max_abs(linear_layer.weight) <= 1 / std::sqrt(20.0));
  CHECK(max_abs(linear_layer.weight) > 0.9 / std::sqrt(20.0));
  CHECK(max_abs(linear_layer.bias) <= 1 / std::sqrt(20.0));
  CHECK_FALSE(nn::Conv2d(3, 8, 3, generator, {}, false).bias.defined());

  Generator first(9), second(9);
  CHECK(nn::Linear(4, 4, first).weight.to_vector() == nn::Linear(4, 4, second).weight.to_vector());

  const nn::BatchNorm batch_norm(3);
  CHECK(batch_norm.weight.to_vector() == std::vector<float>(3, 1.0f));
  CHECK(batch_norm.bias.to_vector() == std::vector<float>(3, 0.0f));
  CHECK(batch_norm.running_mean.to_vector() == std::vector<float>(3, 0.0f));
  CHECK(batch_norm.running_var.to_vector() == std::vector<float>(3, 1.0f));
}

TEST_CASE("module: train and eval propagate to batch norm and dropout", "[module]") {
  Generator generator(4);
  Net net(generator);
  CHECK(net.is_training());
  CHECK(net.batch_norm->mode() == BatchNormMode::train);
  net.eval();
  CHECK_FALSE(net.is_training());
  CHECK_FALSE(net.features->is_training());
  CHECK_FALSE(net.dropout->is_training());
  CHECK(net.batch_norm->mode() == BatchNormMode::eval);
  net.batch_norm->freeze_statistics();
  CHECK(net.batch_norm->mode() == BatchNormMode::eval);  // eval wins over frozen
  net.train();
  CHECK(net.dropout->is_training());
  CHECK(net.batch_norm->mode() == BatchNormMode::frozen);
  net.batch_norm->freeze_statistics(false);
  CHECK(net.batch_norm->mode() == BatchNormMode::train);
  CHECK(net.train_calls == std::vector<bool>{false, true});

  // Dropout acts on training only: in eval it is the identity.
  const Tensor input = Tensor::ones({4, 64});
  net.dropout->eval();
  CHECK(net.dropout->forward(input).to_vector() == input.to_vector());
  net.dropout->train();
  const std::vector<float> dropped = net.dropout->forward(input).to_vector();
  CHECK(std::count(dropped.begin(), dropped.end(), 0.0f) > 0);
  CHECK(std::count(dropped.begin(), dropped.end(), 2.0f) > 0);
}

TEST_CASE("module: batch norm updates running statistics in train mode only", "[module]") {
  Generator generator(5);
  const Tensor input = Tensor::randn({4, 3, 2, 2}, generator);
  nn::BatchNorm batch_norm(3);
  const auto statistics = [&] {
    return std::pair{batch_norm.running_mean.to_vector(), batch_norm.running_var.to_vector()};
  };
  const auto initial = statistics();

  batch_norm.freeze_statistics();
  sum(mul(batch_norm(input), input)).backward();
  CHECK(statistics() == initial);
  REQUIRE(batch_norm.weight.grad().defined());  // gamma and beta still train
  CHECK(batch_norm.bias.grad().defined());

  batch_norm.eval();
  batch_norm(input);
  CHECK(statistics() == initial);

  batch_norm.train();
  batch_norm.freeze_statistics(false);
  batch_norm(input);
  CHECK(statistics() != initial);
}

TEST_CASE("module: forward through a Sequential, zero_grad and moves between devices", "[module]") {
  Generator generator(6);
  nn::Sequential sequential;
  auto linear_layer = sequential.add(std::make_shared<nn::Linear>(3, 2, generator));
  sequential.add(std::make_shared<nn::ReLU>());
  linear_layer->weight.copy_from(Tensor::from_vector(std::vector<float>{1, 0, -1, 0, 2, 0}, {2, 3}));
  linear_layer->bias.copy_from(Tensor::from_vector(std::vector<float>{0.5f, -10.0f}, {2}));
  const Tensor input = Tensor::from_vector(std::vector<float>{1, 2, 3, -1, 0, -4}, {2, 3});
  // Rows: (1 - 3 + 0.5, 4 - 10) = (-1.5, -6) -> relu (0, 0); (-1 + 4 + 0.5, 0 - 10) = (3.5, -10) -> (3.5, 0).
  const Tensor output = sequential(input);
  CHECK(output.to_vector() == std::vector<float>{0, 0, 3.5f, 0});

  sum(output).backward();
  for (const Tensor& parameter : sequential.parameters()) CHECK(parameter.grad().defined());
  sequential.zero_grad();
  for (const Tensor& parameter : sequential.parameters()) CHECK_FALSE(parameter.grad().defined());

  const Tensor weight = linear_layer->weight;  // another handle must follow a move
  const std::vector<float> values = weight.to_vector();
  if (cuda_device_count() == 0) {
    // The move fails as a whole, leaving everything usable on the CPU.
    CHECK_THROWS_AS(sequential.to(Device::cuda(0)), Error);
    CHECK(weight.device() == Device::cpu());
    CHECK(sequential(input).to_vector() == output.to_vector());
  } else {
    sequential.to(Device::cuda(0));
    CHECK(weight.device() == Device::cuda(0));
    CHECK(linear_layer->bias.device() == Device::cuda(0));
    sequential.to(Device::cpu());
    CHECK(weight.device() == Device::cpu());
    CHECK(weight.to_vector() == values);
  }
}
