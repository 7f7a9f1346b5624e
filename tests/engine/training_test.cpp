#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <numeric>

#include "kiln/kiln.h"

using namespace kiln;

namespace {

constexpr std::int64_t image_size = 8;
constexpr std::int64_t class_count = 3;

// Single-channel 8x8 images: class 0 a horizontal bar, class 1 a vertical bar, class 2 a square blob, each at a
// random place with random brightness, over Gaussian noise.
struct Dataset {
  std::vector<float> images;
  std::vector<std::int32_t> labels;
  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }

  // Examples `indices[first, first + count)` as a [count, 1, 8, 8] batch and [count] labels.
  std::pair<Tensor, Tensor> batch(const std::vector<std::int64_t>& indices, std::size_t first,
                                  std::size_t count) const {
    const std::size_t pixels = image_size * image_size;
    std::vector<float> batch_images(count * pixels);
    std::vector<std::int32_t> batch_labels(count);
    for (std::size_t i = 0; i < count; ++i) {
      const auto example = static_cast<std::size_t>(indices[first + i]);
      std::copy_n(images.begin() + static_cast<std::ptrdiff_t>(example * pixels), pixels,
                  batch_images.begin() + static_cast<std::ptrdiff_t>(i * pixels));
      batch_labels[i] = labels[example];
    }
    const auto n = static_cast<std::int64_t>(count);
    return {Tensor::from_vector(batch_images, {n, 1, image_size, image_size}),
            Tensor::from_vector(batch_labels, {n})};
  }
};

Dataset make_dataset(std::int64_t count, std::uint64_t seed) {
  Generator generator(seed);
  Dataset data;
  data.images = Tensor::randn({count, image_size * image_size}, generator).to_vector();
  for (float& pixel : data.images) pixel *= 0.15f;
  for (std::int64_t example = 0; example < count; ++example) {
    const auto label = static_cast<std::int32_t>(generator.below(class_count));
    const auto brightness = static_cast<float>(0.7 + 0.3 * generator.uniform());
    std::int64_t height = 1, width = 1;
    if (label == 2) {
      height = width = 2 + static_cast<std::int64_t>(generator.below(2));  // 2x2 or 3x3
    } else {
      const auto length = 4 + static_cast<std::int64_t>(generator.below(3));  // 4 to 6 pixels
      (label == 0 ? width : height) = length;
    }
    const auto top = static_cast<std::int64_t>(generator.below(static_cast<std::uint64_t>(image_size - height + 1)));
    const auto left = static_cast<std::int64_t>(generator.below(static_cast<std::uint64_t>(image_size - width + 1)));
    float* image = data.images.data() + example * image_size * image_size;
    for (std::int64_t row = top; row < top + height; ++row) {
      for (std::int64_t col = left; col < left + width; ++col) image[row * image_size + col] += brightness;
    }
    data.labels.push_back(label);
  }
  return data;
}

// Conv -> ReLU -> MaxPool -> Conv -> ReLU -> global max pool -> Linear.
std::unique_ptr<nn::Sequential> make_net(Generator& generator) {
  auto net = std::make_unique<nn::Sequential>();
  net->add(std::make_shared<nn::Conv2d>(1, 8, 3, generator, Conv2dOptions::square(1, 1)));
  net->add(std::make_shared<nn::ReLU>());
  net->add(std::make_shared<nn::MaxPool2d>(Pool2dOptions::square(2, 2)));
  net->add(std::make_shared<nn::Conv2d>(8, 16, 3, generator, Conv2dOptions::square(1, 1)));
  net->add(std::make_shared<nn::ReLU>());
  net->add(std::make_shared<nn::MaxPool2d>(Pool2dOptions::square(4, 4)));  // 4x4 -> 1x1
  net->add(std::make_shared<nn::Flatten>());
  net->add(std::make_shared<nn::Linear>(16, class_count, generator));
  return net;
}

double accuracy(nn::Sequential& net, const Dataset& data) {
  NoGradGuard no_grad;
  std::vector<std::int64_t> all(static_cast<std::size_t>(data.size()));
  std::iota(all.begin(), all.end(), 0);
  const auto [images, labels] = data.batch(all, 0, all.size());
  const std::vector<float> logits = net(images).to_vector();
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < data.size(); ++i) {
    const float* row = logits.data() + i * class_count;
    const auto predicted = std::max_element(row, row + class_count) - row;
    if (predicted == data.labels[static_cast<std::size_t>(i)]) ++correct;
  }
  return static_cast<double>(correct) / static_cast<double>(data.size());
}

}  // namespace

TEST_CASE("end to end: a tiny conv net learns a synthetic task", "[training]") {
  const auto start = std::chrono::steady_clock::now();
  const Dataset train = make_dataset(300, 11), test = make_dataset(100, 12);
  Generator generator(13);
  const auto net = make_net(generator);
  optim::Adam adam(net->named_parameters(), {1e-2});

  const double accuracy_before = accuracy(*net, test);
  constexpr std::size_t batch_size = 20;
  std::vector<std::int64_t> order(static_cast<std::size_t>(train.size()));
  std::iota(order.begin(), order.end(), 0);
  for (int epoch = 0; epoch < 12; ++epoch) {
    for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[generator.below(i + 1)]);
    for (std::size_t first = 0; first < order.size(); first += batch_size) {
      const auto [images, labels] = train.batch(order, first, batch_size);
      adam.zero_grad();
      cross_entropy((*net)(images), labels).backward();
      adam.step();
    }
  }
  const double accuracy_after = accuracy(*net, test);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("test accuracy " << accuracy_before << " -> " << accuracy_after << " in " << seconds << " s");
  CHECK(accuracy_before < 0.6);
  REQUIRE(accuracy_after >= 0.95);
  CHECK(adam.steps_taken() == 12 * 15);
}

TEST_CASE("end to end: the loss strictly decreases over the first steps", "[training]") {
  const Dataset data = make_dataset(60, 21);
  std::vector<std::int64_t> all(60);
  std::iota(all.begin(), all.end(), 0);
  const auto [images, labels] = data.batch(all, 0, all.size());
  for (const bool use_adam : {true, false}) {
    INFO((use_adam ? "Adam" : "SGD with momentum"));
    Generator generator(22);
    const auto net = make_net(generator);
    std::unique_ptr<optim::Optimizer> optimizer;
    if (use_adam) {
      optimizer = std::make_unique<optim::Adam>(net->named_parameters(), optim::ExponentialDecay{1e-3});
    } else {
      optimizer = std::make_unique<optim::SGD>(net->named_parameters(), optim::ExponentialDecay{0.05},
                                               optim::L2Options{}, optim::SgdOptions{0.9});
    }
    std::vector<double> losses;
    for (int step = 0; step < 6; ++step) {
      optimizer->zero_grad();
      const Tensor loss = cross_entropy((*net)(images), labels);
      losses.push_back(loss.item());
      loss.backward();
      optimizer->step();
    }
    INFO("losses " << Catch::Detail::stringify(losses));
    for (std::size_t i = 1; i < losses.size(); ++i) CHECK(losses[i] < losses[i - 1]);
  }
}
