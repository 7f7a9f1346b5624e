#include <catch2/catch.hpp>
#include <cmath>

#include "kiln/kiln.h"
#include "tests/support/expect.h"
#include "tests/support/gradcheck.h"

using namespace kiln;
using kiln::testing::check_close;
using kiln::testing::check_gradients;
using kiln::testing::random_input;

TEST_CASE("forward: batch_norm train uses batch statistics and updates the running ones", "[forward]") {
  // [N=2, C=2, H=1, W=2]. Channel 0 holds 1, 3, 5, 7: mean 4, biased variance 5, unbiased 20/3.
  // Channel 1 holds 2, 2, 4, 0: mean 2, biased variance 2, unbiased 8/3.
  const Tensor x = Tensor::from_vector(std::vector<float>{1, 3, 2, 2, 5, 7, 4, 0}, {2, 2, 1, 2});
  const Tensor gamma = Tensor::from_vector(std::vector<float>{2, 0.5f}, {2});
  const Tensor beta = Tensor::from_vector(std::vector<float>{1, -1}, {2});
  Tensor running_mean = Tensor::zeros({2});
  Tensor running_var = Tensor::ones({2});
  BatchNormOptions options;
  options.eps = 0;
  const Tensor y = batch_norm(x, gamma, beta, running_mean, running_var, options);
  const double r5 = std::sqrt(5.0), r2 = std::sqrt(2.0);
  check_close(y.to_vector(), {1 - 6 / r5, 1 - 2 / r5, -1, -1, 1 + 2 / r5, 1 + 6 / r5, -1 + r2 / 2, -1 - r2 / 2});
  // running = 0.9 * running + 0.1 * batch, with the unbiased variance.
  check_close(running_mean.to_vector(), {0.4, 0.2});
  check_close(running_var.to_vector(), {0.9 + 0.1 * 20 / 3, 0.9 + 0.1 * 8 / 3});
}

TEST_CASE("forward: batch_norm eval and frozen use the running statistics and leave them alone", "[forward]") {
  // eps 0.01 makes the standard deviations 2 and 0.5.
  const Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 3, -1}, {2, 2});
  Tensor gamma = Tensor::from_vector(std::vector<float>{3, 0.5f}, {2});
  Tensor beta = Tensor::from_vector(std::vector<float>{1, -1}, {2});
  gamma.set_requires_grad(true);
  beta.set_requires_grad(true);
  const Tensor running_mean = Tensor::from_vector(std::vector<float>{1, 0.5f}, {2});
  const Tensor running_var = Tensor::from_vector(std::vector<float>{3.99f, 0.24f}, {2});
  const std::vector<float> mean_before = running_mean.to_vector(), var_before = running_var.to_vector();
  BatchNormOptions options;
  options.eps = 0.01;
  options.mode = BatchNormMode::eval;
  const Tensor eval_y = batch_norm(x, gamma, beta, running_mean, running_var, options);
  check_close(eval_y.to_vector(), {1, 0.5, 4, -2.5});
  options.mode = BatchNormMode::frozen;
  Tensor x_leaf = x.clone();
  x_leaf.set_requires_grad(true);
  const Tensor frozen_y = batch_norm(x_leaf, gamma, beta, running_mean, running_var, options);
  CHECK(frozen_y.to_vector() == eval_y.to_vector());
  CHECK(running_mean.to_vector() == mean_before);
  CHECK(running_var.to_vector() == var_before);
  // Gradients flow in frozen mode: dx = gamma / std, dgamma = sum of xhat, dbeta = count.
  sum(frozen_y).backward();
  check_close(x_leaf.grad().to_vector(), {1.5, 1, 1.5, 1});
  check_close(gamma.grad().to_vector(), {0 + 1, 3 + -3});
  check_close(beta.grad().to_vector(), {2, 2});
  CHECK(running_mean.to_vector() == mean_before);
  CHECK(running_var.to_vector() == var_before);
}

TEST_CASE("forward: batch_norm rejects mismatched shapes and single-value batches", "[forward]") {
  const Tensor x = Tensor::ones({4, 3, 2, 2});
  const Tensor three = Tensor::ones({3});
  const BatchNormOptions train;
  CHECK_THROWS_WITH(batch_norm(x, Tensor::ones({2}), three, three, three, train),
                    Catch::Contains("batch_norm") && Catch::Contains("gamma") && Catch::Contains("[2]") &&
                        Catch::Contains("[4, 3, 2, 2]"));
  CHECK_THROWS_WITH(batch_norm(x, three, three, Tensor::ones({3, 1}), three, train),
                    Catch::Contains("batch_norm") && Catch::Contains("running_mean") && Catch::Contains("[3, 1]"));
  CHECK_THROWS_WITH(batch_norm(x, three, three, three, Tensor::ones({4}), train),
                    Catch::Contains("batch_norm") && Catch::Contains("running_var") && Catch::Contains("[4]"));
  CHECK_THROWS_WITH(batch_norm(Tensor::ones({4, 3, 2}), three, three, three, three, train),
                    Catch::Contains("batch_norm") && Catch::Contains("[4, 3, 2]"));
  CHECK_THROWS_WITH(batch_norm(x, three, three, three, Tensor::ones({3}, DType::f64), train),
                    Catch::Contains("batch_norm") && Catch::Contains("float64"));
  CHECK_THROWS_WITH(batch_norm(Tensor::ones({1, 3}), three, three, three, three, train),
                    Catch::Contains("batch_norm") && Catch::Contains("more than one value per channel") &&
                        Catch::Contains("[1, 3]"));
  BatchNormOptions eval;
  eval.mode = BatchNormMode::eval;
  CHECK(batch_norm(Tensor::ones({1, 3}), three, three, three, three, eval).shape() == Shape{1, 3});
}

TEST_CASE("gradcheck: batch_norm", "[gradcheck]") {
  for (const Shape& shape : {Shape{3, 2, 3, 5}, Shape{5, 3}}) {
    const std::int64_t channels = shape[1];
    Generator generator(21);
    const Tensor running_mean = Tensor::uniform({channels}, -0.5, 0.5, generator, DType::f64);
    const Tensor running_var = Tensor::uniform({channels}, 0.5, 1.5, generator, DType::f64);
    for (const BatchNormMode mode : {BatchNormMode::train, BatchNormMode::eval, BatchNormMode::frozen}) {
      CAPTURE(shape, static_cast<int>(mode));
      BatchNormOptions options;
      options.mode = mode;
      check_gradients(
          [&](auto& in) {
            // Train mode updates the running statistics, so each call gets fresh copies.
            return batch_norm(in[0], in[1], in[2], running_mean.clone(), running_var.clone(), options);
          },
          {random_input(shape, 22, -2, 2), random_input({channels}, 23, 0.5, 1.5), random_input({channels}, 24)});
    }
  }
}
