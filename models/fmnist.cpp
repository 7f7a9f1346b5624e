#include "kiln/models/fmnist.h"

namespace kiln::models {

FmnistSmall::FmnistSmall(Generator& generator) {
  conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(1, 32, 3, generator));
  conv2_ = register_module("conv2", std::make_shared<nn::Conv2d>(32, 32, 3, generator));
  fc1_ = register_module("fc1", std::make_shared<nn::Linear>(288, 120, generator));
  fc2_ = register_module("fc2", std::make_shared<nn::Linear>(120, 10, generator));
}

Tensor FmnistSmall::forward(const Tensor& images) {
  Tensor x = max_pool2d(relu(conv1_->forward(images)), Pool2dOptions::square(2, 2));  // 32 x 13 x 13
  x = max_pool2d(relu(conv2_->forward(x)), Pool2dOptions::square(3, 3));              // 32 x 3 x 3
  return fc2_->forward(relu(fc1_->forward(x.flatten(1))));
}

FmnistBn::FmnistBn(Generator& generator) : dropout_generator(generator.below(std::uint64_t(1) << 62)) {
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

}  // namespace kiln::models
