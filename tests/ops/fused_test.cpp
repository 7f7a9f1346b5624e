#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "kernels/parallel.h"
#include "kiln/kiln.h"
#include "tests/support/gradcheck.h"

using namespace kiln;
using kiln::testing::check_gradients;
using kiln::testing::random_input;

namespace {

struct FusedCase {
  std::string name;
  Shape x, weight;
  bool bias;
  Conv2dOptions conv;
  Pool2dOptions pool;
};

Pool2dOptions ceil_pool(std::int64_t kernel, std::int64_t stride, std::int64_t pad) {
  Pool2dOptions options = Pool2dOptions::square(kernel, stride, pad);
  options.ceil_mode = true;
  return options;
}

// fmnist-small's two blocks, scaled down but still several chunks of images (the first: 30 images of 4 x 26 x 26
// float64 outputs, chunks of 12), and padded, strided and overlapping geometries.
const std::vector<FusedCase>& fused_cases() {
  static const std::vector<FusedCase> cases = {
      {"conv1-like: 1->4 3x3 on 28x28, pool 2/2, 30 images", {30, 1, 28, 28}, {4, 1, 3, 3}, true, {},
       Pool2dOptions::square(2, 2)},
      {"conv2-like: 3->5 3x3 on 13x13, pool 3/3", {6, 3, 13, 13}, {5, 3, 3, 3}, true, {}, Pool2dOptions::square(3, 3)},
      {"padded 3x3 stride 2, overlapping pool 3/2 pad 1 ceil, no bias", {4, 2, 11, 9}, {3, 2, 3, 3}, false,
       Conv2dOptions::square(2, 1), ceil_pool(3, 2, 1)},
      {"2x3 kernel, pool 2/1", {3, 2, 7, 8}, {2, 2, 2, 3}, true, {}, Pool2dOptions::square(2, 1)},
  };
  return cases;
}

std::vector<Tensor> leaves(const FusedCase& c, std::uint64_t seed) {
  std::vector<Tensor> inputs{random_input(c.x, seed), random_input(c.weight, seed + 1)};
  inputs.push_back(c.bias ? random_input({c.weight[0]}, seed + 2) : Tensor());
  return inputs;
}

// The output and the gradients of sum(f(x, w, b) * r) for every defined input (fresh leaves each call).
std::vector<Tensor> output_and_gradients(const FusedCase& c, bool fused) {
  const std::vector<Tensor> in = leaves(c, 7);
  const Tensor y = fused ? conv2d_relu_max_pool2d(in[0], in[1], in[2], c.conv, c.pool)
                         : relu_max_pool2d(conv2d(in[0], in[1], in[2], c.conv), c.pool);
  sum(mul(y, random_input(y.shape(), 99))).backward();
  std::vector<Tensor> results{y};
  for (const Tensor& input : in) {
    if (input.defined()) results.push_back(input.grad());
  }
  return results;
}

}  // namespace

TEST_CASE("forward: conv2d_relu_max_pool2d matches the three ops, values and gradients, 1 and 2 threads",
          "[forward]") {
  const int saved_threads = kernels::num_threads();
  for (const FusedCase& c : fused_cases()) {
    for (const int threads : {1, 2}) {
      INFO(c.name << ", " << threads << " threads");
      kernels::set_num_threads(threads);
      const std::vector<Tensor> fused = output_and_gradients(c, true), plain = output_and_gradients(c, false);
      REQUIRE(fused.size() == plain.size());
      for (std::size_t t = 0; t < fused.size(); ++t) {
        INFO((t == 0 ? "output" : "gradient " + std::to_string(t)));
        REQUIRE(fused[t].shape() == plain[t].shape());
        const std::vector<double> a = fused[t].to_vector_f64(), e = plain[t].to_vector_f64();
        for (std::size_t i = 0; i < a.size(); ++i) {
          INFO("element " << i);
          CHECK(a[i] == Approx(e[i]).epsilon(1e-12).margin(1e-12));
        }
      }
    }
  }
  kernels::set_num_threads(saved_threads);
}

TEST_CASE("forward: conv2d_relu_max_pool2d in float32 matches the three ops", "[forward]") {
  const FusedCase& c = fused_cases().front();
  const std::vector<Tensor> in = leaves(c, 3);
  const Tensor x = in[0].to(DType::f32), w = in[1].to(DType::f32), b = in[2].to(DType::f32);
  const std::vector<float> fused = conv2d_relu_max_pool2d(x, w, b, c.conv, c.pool).to_vector();
  const std::vector<float> plain = relu_max_pool2d(conv2d(x, w, b, c.conv), c.pool).to_vector();
  REQUIRE(fused.size() == plain.size());
  for (std::size_t i = 0; i < fused.size(); ++i) CHECK(fused[i] == Approx(plain[i]).margin(1e-6));
}

TEST_CASE("errors: conv2d_relu_max_pool2d checks the convolution and the pool, naming itself", "[errors]") {
  const Tensor x = Tensor::zeros({2, 3, 8, 8}), w = Tensor::zeros({4, 3, 3, 3});
  CHECK_THROWS_WITH(conv2d_relu_max_pool2d(x, Tensor::zeros({4, 2, 3, 3}), Tensor(), {}, Pool2dOptions::square(2, 2)),
                    Catch::Contains("conv2d_relu_max_pool2d") && Catch::Contains("channels"));
  CHECK_THROWS_WITH(conv2d_relu_max_pool2d(x, w, Tensor::zeros({3}), {}, Pool2dOptions::square(2, 2)),
                    Catch::Contains("conv2d_relu_max_pool2d") && Catch::Contains("bias"));
  // The 8x8 input gives a 6x6 convolution output, smaller than a 7x7 window.
  CHECK_THROWS_WITH(conv2d_relu_max_pool2d(x, w, Tensor(), {}, Pool2dOptions::square(7, 7)),
                    Catch::Contains("conv2d_relu_max_pool2d") && Catch::Contains("larger than the padded input"));
}

TEST_CASE("gradcheck: conv2d_relu_max_pool2d", "[gradcheck]") {
  for (const FusedCase& c : {fused_cases()[2], fused_cases()[3]}) {
    INFO(c.name);
    check_gradients([&c](auto& in) { return conv2d_relu_max_pool2d(in[0], in[1], in[2], c.conv, c.pool); },
                    leaves(c, 11));
  }
}
