#include <catch2/catch.hpp>

#include "kernels/conv2d.h"
#include "kernels/parallel.h"
#include "kiln/kiln.h"
#include "tests/support/gradcheck.h"

using namespace kiln;
using kiln::testing::check_gradients;
using kiln::testing::random_input;

namespace {

Tensor floats(const std::vector<float>& values, const Shape& shape) { return Tensor::from_vector(values, shape); }

double inner_product(const Tensor& a, const Tensor& b) { return sum(mul(a, b)).item(); }

// Element-by-element comparison with a relative tolerance.
void check_close(const Tensor& actual, const Tensor& expected, double tolerance) {
  REQUIRE(actual.shape() == expected.shape());
  const std::vector<double> a = actual.to_vector_f64(), e = expected.to_vector_f64();
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("element " << i);
    CHECK(a[i] == Approx(e[i]).epsilon(tolerance).margin(tolerance));
  }
}

}  // namespace

TEST_CASE("forward: conv2d on hand-computed values", "[forward]") {
  const Tensor x = floats({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  const Tensor w = floats({1, 2, 3, 4}, {1, 1, 2, 2});
  // Stride 1, no padding: each output is the dot product of a 2x2 window with w.
  CHECK(conv2d(x, w, Tensor()).to_vector() == std::vector<float>{37, 47, 67, 77});
  // Stride 2, padding 1: windows over rows/columns {-1, 0} and {1, 2}, bias 10.
  CHECK(conv2d(x, w, floats({10}, {1}), Conv2dOptions::square(2, 1)).to_vector() ==
        std::vector<float>{14, 28, 46, 87});
  // Stride (1, 2), padding (0 rows, 1 column): rows {0, 1} and {1, 2}, columns {-1, 0} and {1, 2}.
  CHECK(conv2d(x, w, Tensor(), {1, 2, 0, 1}).to_vector() ==
        std::vector<float>{1 * 2 + 4 * 4, 2 + 3 * 2 + 5 * 3 + 6 * 4, 4 * 2 + 7 * 4, 5 + 6 * 2 + 8 * 3 + 9 * 4});
  // 1x1 kernel (the pointwise path), two channels in and out: y[k] = w[k][0] * x[0] + w[k][1] * x[1] + b[k].
  const Tensor two_channels = floats({1, 2, 3, 4}, {1, 2, 1, 2});
  CHECK(conv2d(two_channels, floats({1, 10, -1, 2}, {2, 2, 1, 1}), floats({0.5f, -0.5f}, {2})).to_vector() ==
        std::vector<float>{31.5f, 42.5f, 4.5f, 5.5f});
}

TEST_CASE("forward: conv2d 1x1 fast path matches the general im2col path", "[forward]") {
  Generator generator(21);
  const Tensor x = Tensor::randn({2, 3, 4, 5}, generator, DType::f64);
  const Tensor w = Tensor::randn({4, 3, 1, 1}, generator, DType::f64);
  const Tensor b = Tensor::randn({4}, generator, DType::f64);
  const std::vector<double> fast = conv2d(x, w, b).to_vector_f64();
  // Padding 1 takes the im2col path; its interior is the unpadded result and its border is the bias alone.
  const std::vector<double> padded = conv2d(x, w, b, Conv2dOptions::square(1, 1)).to_vector_f64();
  const std::vector<double> bias = b.to_vector_f64();
  for (std::size_t image = 0; image < 8; ++image) {  // (n, k) pairs
    for (std::size_t row = 0; row < 6; ++row) {
      for (std::size_t col = 0; col < 7; ++col) {
        const bool border = row == 0 || row == 5 || col == 0 || col == 6;
        const double expected = border ? bias[image % 4] : fast[(image * 4 + row - 1) * 5 + col - 1];
        CHECK(padded[(image * 6 + row) * 7 + col] == Approx(expected).epsilon(1e-12));
      }
    }
  }
}

TEST_CASE("forward: the CPU conv2d kernels match a direct sum, wide and im2col columns, grouped images",
          "[forward]") {
  using kernels::cpu::Conv2dGeometry;
  struct Case {
    const char* name;
    std::int64_t batch, out_channels;
    Conv2dGeometry geometry;
  };
  // 13x13 -> 11x11 puts 7 images in a gemm: 20 images are 3 groups, split over 2 threads in the second pass.
  const Case cases[] = {{"3x3 stride 1 unpadded (wide columns)", 20, 3, {2, 13, 13, 3, 3}},
                        {"2x3 stride 1 unpadded, non-square (wide columns)", 3, 2, {3, 6, 5, 2, 3}},
                        {"3x1 stride 1 unpadded (wide columns)", 2, 2, {2, 5, 4, 3, 1}},
                        {"3x3 stride 1 unpadded, few column rows per output channel (im2col)", 3, 8, {1, 6, 7, 3, 3}},
                        {"3x3 padding 1 (im2col)", 9, 2, {2, 7, 6, 3, 3, 1, 1, 1, 1}},
                        {"3x3 stride 2 (im2col)", 2, 3, {2, 7, 8, 3, 3, 2, 2, 0, 0}}};
  for (const Case& c : cases) {
    const Conv2dGeometry& g = c.geometry;
    const std::int64_t oh = g.out_height(), ow = g.out_width();
    Generator generator(61);
    const std::vector<double> x = Tensor::randn({c.batch, g.channels, g.height, g.width}, generator, DType::f64)
                                      .to_vector_f64();
    const std::vector<double> w =
        Tensor::randn({c.out_channels, g.channels, g.kernel_h, g.kernel_w}, generator, DType::f64).to_vector_f64();
    const std::vector<double> b = Tensor::randn({c.out_channels}, generator, DType::f64).to_vector_f64();
    const std::vector<double> dy = Tensor::randn({c.batch, c.out_channels, oh, ow}, generator, DType::f64)
                                       .to_vector_f64();
    // The direct sums: y = b + sum w * x, dx = sum w * dy, dw = sum dy * x over every (output, tap) pair.
    std::vector<double> y(dy.size()), dx(x.size()), dw(w.size());
    for (std::int64_t n = 0; n < c.batch; ++n) {
      for (std::int64_t k = 0; k < c.out_channels; ++k) {
        for (std::int64_t i = 0; i < oh * ow; ++i) {
          const std::size_t out = static_cast<std::size_t>((n * c.out_channels + k) * oh * ow + i);
          y[out] = b[static_cast<std::size_t>(k)];
          for (std::int64_t ch = 0; ch < g.channels; ++ch) {
            for (std::int64_t r = 0; r < g.kernel_h; ++r) {
              for (std::int64_t s = 0; s < g.kernel_w; ++s) {
                const std::int64_t row = i / ow * g.stride_h - g.pad_h + r, col = i % ow * g.stride_w - g.pad_w + s;
                if (row < 0 || row >= g.height || col < 0 || col >= g.width) continue;
                const auto in = static_cast<std::size_t>(((n * g.channels + ch) * g.height + row) * g.width + col);
                const auto tap = static_cast<std::size_t>(((k * g.channels + ch) * g.kernel_h + r) * g.kernel_w + s);
                y[out] += w[tap] * x[in];
                dx[in] += w[tap] * dy[out];
                dw[tap] += dy[out] * x[in];
              }
            }
          }
        }
      }
    }
    const int saved_threads = kernels::num_threads();
    for (const int threads : {1, 2}) {
      INFO(c.name << ", " << threads << " threads");
      kernels::set_num_threads(threads);
      std::vector<double> y_kernel(y.size()), dx_kernel(dx.size(), -1), dw_kernel(dw.size(), -1);
      kernels::cpu::conv2d_forward(x.data(), w.data(), b.data(), y_kernel.data(), c.batch, c.out_channels, g);
      kernels::cpu::conv2d_backward_data(dy.data(), w.data(), dx_kernel.data(), c.batch, c.out_channels, g);
      kernels::cpu::conv2d_backward_weight(x.data(), dy.data(), dw_kernel.data(), c.batch, c.out_channels, g);
      for (const auto& [actual, expected] : {std::pair{&y_kernel, &y}, {&dx_kernel, &dx}, {&dw_kernel, &dw}}) {
        for (std::size_t i = 0; i < expected->size(); ++i) {
          INFO("element " << i);
          CHECK((*actual)[i] == Approx((*expected)[i]).epsilon(1e-12).margin(1e-12));
        }
      }
    }
    kernels::set_num_threads(saved_threads);
  }
}

TEST_CASE("forward: conv2d backward does not depend on the thread count", "[forward]") {
  const auto gradients = [](int threads) {
    kernels::set_num_threads(threads);
    const Tensor x = random_input({5, 2, 5, 4}, 31), w = random_input({3, 2, 3, 3}, 32);
    sum(mul(conv2d(x, w, Tensor(), Conv2dOptions::square(2, 1)), Tensor::full({5, 3, 3, 2}, 0.5, DType::f64)))
        .backward();
    return std::pair{x.grad(), w.grad()};
  };
  const int saved_threads = kernels::num_threads();
  const auto [serial_dx, serial_dw] = gradients(1);
  const auto [threaded_dx, threaded_dw] = gradients(3);  // 3 chunks of the batch, partial weight sums
  kernels::set_num_threads(saved_threads);
  check_close(threaded_dx, serial_dx, 1e-12);
  check_close(threaded_dw, serial_dw, 1e-12);
}

TEST_CASE("forward: conv_transpose2d on hand-computed values", "[forward]") {
  const Tensor x = floats({1, 2, 3, 4}, {1, 1, 2, 2});
  // Kernel 2, stride 2: each input pixel stamps x * w into its own 2x2 block; output padding 1 adds a last row and
  // column that only the bias reaches.
  CHECK(conv_transpose2d(x, floats({1, 2, 3, 4}, {1, 1, 2, 2}), floats({0.5f}, {1}),
                         ConvTranspose2dOptions::square(2, 0, 1))
            .to_vector() == std::vector<float>{1.5f,  2.5f,  2.5f,  4.5f,  0.5f,  //
                                               3.5f,  4.5f,  6.5f,  8.5f,  0.5f,  //
                                               3.5f,  6.5f,  4.5f,  8.5f,  0.5f,  //
                                               9.5f,  12.5f, 12.5f, 16.5f, 0.5f,  //
                                               0.5f,  0.5f,  0.5f,  0.5f,  0.5f});
  // Kernel 3 of ones, stride 2, padding 1, output padding 1: input row i reaches output rows 2i-1..2i+1 (clipped to
  // 0..3), so output rows take {x0}, {x0, x1}, {x1}, {x1}; likewise columns.
  CHECK(conv_transpose2d(x, Tensor::ones({1, 1, 3, 3}), Tensor(), ConvTranspose2dOptions::square(2, 1, 1))
            .to_vector() == std::vector<float>{1, 3, 2, 2, 4, 10, 6, 6, 3, 7, 4, 4, 3, 7, 4, 4});
}

TEST_CASE("forward: conv_transpose2d is the adjoint of conv2d", "[forward]") {
  // <conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for the same weight, stride and padding; the output padding
  // (0, 1) restores x's 7 x 6 from y's 4 x 4.
  Generator generator(41);
  const Tensor x = Tensor::randn({2, 3, 7, 6}, generator, DType::f64);
  const Tensor w = Tensor::randn({4, 3, 3, 3}, generator, DType::f64);
  const Tensor y = Tensor::randn({2, 4, 4, 4}, generator, DType::f64);
  const double forward = inner_product(conv2d(x, w, Tensor(), {2, 2, 1, 2}), y);
  const double adjoint = inner_product(x, conv_transpose2d(y, w, Tensor(), {2, 2, 1, 2, 0, 1}));
  CHECK(forward == Approx(adjoint).epsilon(1e-12));
}

TEST_CASE("forward: conv2d and conv_transpose2d reject bad shapes", "[forward]") {
  const Tensor x = Tensor::ones({2, 3, 5, 5});
  CHECK_THROWS_WITH(conv2d(x, Tensor::ones({4, 2, 3, 3}), Tensor()),
                    "conv2d: input [2, 3, 5, 5] has 3 channels but weight [4, 2, 3, 3] expects 2");
  CHECK_THROWS_WITH(conv2d(x, Tensor::ones({4, 3, 6, 3}), Tensor()),
                    Catch::Contains("conv2d: output size") && Catch::Contains("[2, 3, 5, 5]") &&
                        Catch::Contains("[4, 3, 6, 3]"));
  CHECK_THROWS_WITH(conv2d(x, Tensor::ones({4, 3, 3, 3}), Tensor::ones({3})),
                    "conv2d: bias [3] does not match the 4 output channels of weight [4, 3, 3, 3]");
  CHECK_THROWS_WITH(conv2d(Tensor::ones({3, 5, 5}), Tensor::ones({4, 3, 3, 3}), Tensor()),
                    Catch::Contains("conv2d") && Catch::Contains("[3, 5, 5]"));
  CHECK_THROWS_WITH(conv2d(x, Tensor::ones({4, 3, 3, 3}), Tensor(), Conv2dOptions::square(0, 0)),
                    Catch::Contains("conv2d: stride"));
  CHECK_THROWS_WITH(conv_transpose2d(x, Tensor::ones({2, 4, 3, 3}), Tensor()),
                    "conv_transpose2d: input [2, 3, 5, 5] has 3 channels but weight [2, 4, 3, 3] expects 2");
  CHECK_THROWS_WITH(conv_transpose2d(x, Tensor::ones({3, 4, 3, 3}), Tensor(), ConvTranspose2dOptions::square(2, 1, 2)),
                    Catch::Contains("conv_transpose2d: output padding (2, 2)") &&
                        Catch::Contains("stride (2, 2)"));
  CHECK_THROWS_WITH(conv_transpose2d(Tensor::ones({1, 3, 1, 1}), Tensor::ones({3, 4, 1, 1}), Tensor(),
                                     ConvTranspose2dOptions::square(1, 1)),
                    Catch::Contains("conv_transpose2d: output size [-1, -1]") && Catch::Contains("[1, 3, 1, 1]") &&
                        Catch::Contains("[3, 4, 1, 1]"));
  CHECK_THROWS_WITH(conv_transpose2d(x, Tensor::ones({3, 4, 3, 3}), Tensor::ones({3})),
                    "conv_transpose2d: bias [3] does not match the 4 output channels of weight [3, 4, 3, 3]");
}

TEST_CASE("gradcheck: conv2d", "[gradcheck]") {
  SECTION("stride 2, asymmetric padding, bias") {
    check_gradients([](auto& in) { return conv2d(in[0], in[1], in[2], {2, 2, 1, 2}); },
                    {random_input({2, 3, 5, 7}, 51), random_input({2, 3, 3, 3}, 52), random_input({2}, 53)});
  }
  SECTION("strides (1, 2), padding (0, 1), no bias") {
    check_gradients([](auto& in) { return conv2d(in[0], in[1], Tensor(), {1, 2, 0, 1}); },
                    {random_input({2, 2, 5, 3}, 54), random_input({3, 2, 2, 3}, 55)});
  }
  SECTION("stride 1, unpadded, non-square kernel (wide columns)") {
    check_gradients([](auto& in) { return conv2d(in[0], in[1], in[2]); },
                    {random_input({2, 2, 5, 6}, 59), random_input({3, 2, 3, 2}, 60), random_input({3}, 61)});
  }
  SECTION("1x1 pointwise path") {
    check_gradients([](auto& in) { return conv2d(in[0], in[1], in[2]); },
                    {random_input({2, 3, 3, 5}, 56), random_input({2, 3, 1, 1}, 57), random_input({2}, 58)});
  }
}

TEST_CASE("gradcheck: conv_transpose2d", "[gradcheck]") {
  SECTION("stride 2, padding 1, output padding 1, bias") {
    check_gradients(
        [](auto& in) { return conv_transpose2d(in[0], in[1], in[2], ConvTranspose2dOptions::square(2, 1, 1)); },
        {random_input({2, 3, 3, 4}, 61), random_input({3, 2, 3, 3}, 62), random_input({2}, 63)});
  }
  SECTION("strides (2, 1), padding (0, 1), output padding (1, 0), no bias") {
    check_gradients([](auto& in) { return conv_transpose2d(in[0], in[1], Tensor(), {2, 1, 0, 1, 1, 0}); },
                    {random_input({2, 2, 3, 5}, 64), random_input({2, 3, 2, 3}, 65)});
  }
}
