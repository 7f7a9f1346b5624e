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
