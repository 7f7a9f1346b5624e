#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "kiln/kiln.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::check_parity;
using kiln::testing::parity_input;

namespace {
Tensor int_targets(const std::vector<std::int32_t>& values, const Shape& shape) {
  return Tensor::from_vector(values, shape);
}
}  // namespace

TEST_CASE("parity native: cross_entropy", "[parity]") {
  // Class layout, one sample ignored.
  check_parity("cross_entropy [7, 5]", [](auto& in) { return cross_entropy(in[0], in[1]); },
               {parity_input({7, 5}, 60, -3.0, 3.0), int_targets({4, 0, -100, 2, 1, 3, 0}, {7})});
  check_parity("cross_entropy [3, 37]", [](auto& in) { return cross_entropy(in[0], in[1]); },
               {parity_input({3, 37}, 61, -5.0, 5.0), int_targets({36, 0, 17}, {3})});

  // Per pixel: 570 positions (several blocks of partials), every fifth pixel ignored with ignore_index 255.
  std::vector<std::int32_t> pixels(2 * 15 * 19);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = i % 5 == 4 ? 255 : static_cast<std::int32_t>(i % 3);
  check_parity("cross_entropy per pixel [2, 3, 15, 19]", [](auto& in) { return cross_entropy(in[0], in[1], 255); },
               {parity_input({2, 3, 15, 19}, 62, -3.0, 3.0), int_targets(pixels, {2, 15, 19})});

  // Every target ignored: the loss and the gradient are 0.
  const auto all_ignored = [](auto& in) { return cross_entropy(in[0], in[1]); };
  const Tensor ignored = int_targets(std::vector<std::int32_t>(2 * 2 * 3, -100), {2, 2, 3});
  const Tensor logits = parity_input({2, 4, 2, 3}, 63);
  check_parity("cross_entropy all ignored", all_ignored, {logits, ignored});
  std::vector<Tensor> cuda_in{logits.detach().to(Device::cuda(0)).set_requires_grad(true), ignored.to(Device::cuda(0))};
  const Tensor loss = all_ignored(cuda_in);
  CHECK(loss.item() == 0.0);
  loss.backward();
  CHECK(cuda_in[0].grad().to_vector() == std::vector<float>(2 * 4 * 2 * 3, 0.0f));
}

TEST_CASE("parity native: cross_entropy rejects out-of-range targets at the next read from the device", "[parity]") {
  // The kernels leave an invalid target out and report the first one; the next copy to the host throws it, once.
  const Device cuda = Device::cuda(0);
  const Tensor logits = Tensor::zeros({2, 3, 1, 2}, DType::f32, cuda);
  const Tensor loss = cross_entropy(logits, int_targets({0, -100, 2, 7}, {2, 1, 2}).to(cuda));
  CHECK_THROWS_WITH(loss.item(), Catch::Contains("cross_entropy: target 7 at [1, 0, 1] of targets [2, 1, 2] is "
                                                 "outside [0, 3) and is not ignore_index -100") &&
                                     Catch::Contains("cuda:0"));
  CHECK(loss.item() == Approx(std::log(3.0)));  // reported once; the two valid targets count

  // The first failure since the last report wins, and within one call the lowest position.
  static_cast<void>(cross_entropy(Tensor::zeros({3, 3}, DType::f32, cuda), int_targets({1, -1, 5}, {3}).to(cuda)));
  static_cast<void>(cross_entropy(Tensor::zeros({2, 3}, DType::f32, cuda), int_targets({9, 0}, {2}).to(cuda)));
  CHECK_THROWS_WITH(Tensor::zeros({1}, DType::f32, cuda).to_vector(),
                    Catch::Contains("target -1 at [1] of targets [3]"));
  CHECK_NOTHROW(Tensor::zeros({1}, DType::f32, cuda).to_vector());

  CHECK_THROWS_WITH(cross_entropy(Tensor::zeros({2, 3}, DType::f32, cuda), int_targets({0, 1}, {2})),
                    Catch::Contains("cross_entropy") && Catch::Contains("cpu"));
}

TEST_CASE("parity native: cross_entropy with class weights", "[parity]") {
  // check_parity runs the function on CPU and CUDA inputs: each takes the weights on its own device.
  const std::vector<float> values{0.5f, 2.0f, 1.0f, 0.0f, 3.0f};
  const ClassWeights cpu_weights(values), cuda_weights(values, Device::cuda(0));
  const auto weights_for = [&](const Tensor& logits) -> const ClassWeights& {
    return logits.device().is_cuda() ? cuda_weights : cpu_weights;
  };
  check_parity("weighted cross_entropy [7, 5]",
               [&](auto& in) { return cross_entropy(in[0], in[1], weights_for(in[0])); },
               {parity_input({7, 5}, 64, -3.0, 3.0), int_targets({4, 0, -100, 2, 1, 3, 0}, {7})});

  // Per pixel: 570 positions (several blocks of partials), every fifth pixel ignored, class 3 weighted 0.
  std::vector<std::int32_t> pixels(2 * 15 * 19);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = i % 5 == 4 ? 255 : static_cast<std::int32_t>(i % 5);
  check_parity("weighted cross_entropy per pixel [2, 5, 15, 19]",
               [&](auto& in) { return cross_entropy(in[0], in[1], weights_for(in[0]), 255); },
               {parity_input({2, 5, 15, 19}, 65, -3.0, 3.0), int_targets(pixels, {2, 15, 19})});

  // Every counted target weighted 0: the loss and the gradient are 0, as on the CPU.
  const Tensor logits = parity_input({3, 5}, 66);
  const Tensor zero_weight = int_targets({3, -100, 3}, {3});
  check_parity("weighted cross_entropy, weight sum 0",
               [&](auto& in) { return cross_entropy(in[0], in[1], weights_for(in[0])); }, {logits, zero_weight});
  const Tensor cuda_logits = logits.detach().to(Device::cuda(0)).set_requires_grad(true);
  const Tensor loss = cross_entropy(cuda_logits, zero_weight.to(Device::cuda(0)), cuda_weights);
  CHECK(loss.item() == 0.0);
  loss.backward();
  CHECK(cuda_logits.grad().to_vector() == std::vector<float>(3 * 5, 0.0f));
}

TEST_CASE("parity native: cross_entropy with unit class weights is the unweighted op bit for bit", "[parity]") {
  const Device cuda = Device::cuda(0);
  std::vector<std::int32_t> pixels(2 * 15 * 19);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = i % 5 == 4 ? -100 : static_cast<std::int32_t>(i % 3);
  const Tensor targets = int_targets(pixels, {2, 15, 19}).to(cuda);
  const Tensor values = parity_input({2, 3, 15, 19}, 67, -3.0, 3.0).detach().to(cuda);
  Tensor plain = values.clone(), weighted = values.clone();
  plain.set_requires_grad(true);
  weighted.set_requires_grad(true);
  const Tensor plain_loss = cross_entropy(plain, targets);
  const Tensor weighted_loss = cross_entropy(weighted, targets, ClassWeights({1.0f, 1.0f, 1.0f}, cuda));
  CHECK(weighted_loss.item() == plain_loss.item());
  plain_loss.backward();
  weighted_loss.backward();
  CHECK(weighted.grad().to_vector() == plain.grad().to_vector());
}

TEST_CASE("parity native: weighted cross_entropy reads nothing from the device, and checks the weights' device",
          "[parity]") {
  const Device cuda = Device::cuda(0);
  const ClassWeights weights({1.0f, 0.25f, 4.0f}, cuda);
  const Tensor logits = parity_input({4, 3}, 68).detach().to(cuda).set_requires_grad(true);
  const Tensor targets = int_targets({2, 1, -100, 0}, {4}).to(cuda);
  const std::uint64_t before = cuda_device_to_host_copies();
  const Tensor loss = cross_entropy(logits, targets, weights);
  loss.backward();
  CHECK(cuda_device_to_host_copies() == before);

  // A ClassWeights made from a device tensor reads it once, when made.
  CHECK_THROWS_WITH(ClassWeights(Tensor::from_vector(std::vector<float>{1, -2, 1}, {3}, cuda)),
                    Catch::Contains("cross_entropy: class weight -2 at [1] of class weights [3]"));
  CHECK(ClassWeights(Tensor::ones({3}, DType::f32, cuda)).tensor().device() == cuda);

  CHECK_THROWS_WITH(cross_entropy(logits, targets, ClassWeights({1.0f, 1.0f, 1.0f})),
                    Catch::Contains("cross_entropy: class weights on cpu but logits on cuda:0"));
  CHECK_THROWS_WITH(cross_entropy(Tensor::zeros({4, 3}), int_targets({2, 1, -100, 0}, {4}), weights),
                    Catch::Contains("cross_entropy: class weights on cuda:0 but logits on cpu"));
}
