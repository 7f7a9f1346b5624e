#include <catch2/catch.hpp>
#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kiln/kiln.h"
#include "tests/cuda/parity.h"

using namespace kiln;
using kiln::testing::check_parity;
using kiln::testing::parity_input;

namespace {

// Distinct values in [-1, 1) in random order, so that CPU and CUDA max pools have no ties to break.
Tensor distinct_input(const Shape& shape, std::uint32_t seed) {
  std::vector<float> values(static_cast<std::size_t>(shape_numel(shape)));
  std::iota(values.begin(), values.end(), 0.0f);
  std::shuffle(values.begin(), values.end(), std::mt19937(seed));
  const auto count = static_cast<float>(values.size());
  for (float& value : values) value = 2.0f * value / count - 1.0f;
  Tensor tensor = Tensor::from_vector(values, shape);
  tensor.set_requires_grad(true);
  return tensor;
}

Pool2dOptions pool_options(std::int64_t kernel_h, std::int64_t kernel_w, std::int64_t stride_h, std::int64_t stride_w,
                           std::int64_t pad_h, std::int64_t pad_w, bool ceil_mode) {
  Pool2dOptions options;
  options.kernel_h = kernel_h, options.kernel_w = kernel_w;
  options.stride_h = stride_h, options.stride_w = stride_w;
  options.pad_h = pad_h, options.pad_w = pad_w;
  options.ceil_mode = ceil_mode;
  return options;
}

std::string describe_options(const Pool2dOptions& o) {
  return "kernel " + std::to_string(o.kernel_h) + "x" + std::to_string(o.kernel_w) + " stride " +
         std::to_string(o.stride_h) + "x" + std::to_string(o.stride_w) + " pad " + std::to_string(o.pad_h) + "x" +
         std::to_string(o.pad_w) + (o.ceil_mode ? " ceil" : "") + (o.count_include_pad ? "" : " exclude_pad") +
         (o.divisor_override > 0 ? " divisor " + std::to_string(o.divisor_override) : "");
}

// Odd sizes, stride 1 and 2 (overlapping windows), padding, ceil_mode with a partial last window, batch 1 and 2.
const std::vector<std::pair<Shape, Pool2dOptions>>& strided_cases() {
  static const std::vector<std::pair<Shape, Pool2dOptions>> cases = {
      {{2, 3, 8, 7}, Pool2dOptions::square(2, 2)},
      {{1, 2, 9, 11}, Pool2dOptions::square(3, 2, 1)},
      {{2, 2, 7, 10}, pool_options(3, 3, 2, 2, 0, 0, true)},
      {{2, 2, 9, 8}, pool_options(3, 3, 2, 2, 1, 1, true)},
      {{1, 3, 6, 9}, pool_options(3, 2, 2, 1, 1, 0, false)},
      {{2, 1, 7, 5}, Pool2dOptions::square(3, 1, 1)},
  };
  return cases;
}

}  // namespace

TEST_CASE("parity native: max_pool2d", "[parity]") {
  std::uint32_t seed = 1;
  for (const auto& [shape, options] : strided_cases()) {
    check_parity("max_pool2d " + shape_str(shape) + " " + describe_options(options),
                 [options](auto& in) { return max_pool2d(in[0], options); }, {distinct_input(shape, seed++)});
  }
}

TEST_CASE("parity native: relu_max_pool2d", "[parity]") {
  // Values in [-1, 1): windows with no positive value give 0 and no gradient on both devices.
  std::uint32_t seed = 60;
  for (const auto& [shape, options] : strided_cases()) {
    check_parity("relu_max_pool2d " + shape_str(shape) + " " + describe_options(options),
                 [options](auto& in) { return relu_max_pool2d(in[0], options); }, {distinct_input(shape, seed++)});
  }
}

TEST_CASE("parity native: avg_pool2d", "[parity]") {
  // Each case with and without count_include_pad; divisor_override on the ceil_mode cases (whose last windows are
  // partial), where it differs most from both divisors.
  std::uint64_t seed = 10;
  for (const auto& [shape, base] : strided_cases()) {
    std::vector<std::pair<bool, std::int64_t>> variants = {{true, 0}, {false, 0}};
    if (base.ceil_mode) variants.emplace_back(false, 5);
    for (const auto& [include_pad, divisor] : variants) {
      Pool2dOptions options = base;
      options.count_include_pad = include_pad;
      options.divisor_override = divisor;
      check_parity("avg_pool2d " + shape_str(shape) + " " + describe_options(options),
                   [options](auto& in) { return avg_pool2d(in[0], options); }, {parity_input(shape, seed++)});
    }
  }
}

TEST_CASE("parity native: adaptive pools", "[parity]") {
  // Shrinking with uneven (overlapping) windows, growing, and 1x1.
  const std::vector<std::pair<Shape, std::pair<std::int64_t, std::int64_t>>> cases = {
      {{2, 3, 9, 11}, {4, 5}}, {{1, 2, 5, 7}, {7, 3}}, {{2, 2, 6, 5}, {1, 1}}, {{1, 1, 3, 4}, {5, 9}}};
  std::uint32_t seed = 40;
  for (const auto& [shape, size] : cases) {
    const auto [out_h, out_w] = size;
    const std::string name = shape_str(shape) + " -> " + std::to_string(out_h) + "x" + std::to_string(out_w);
    check_parity("adaptive_max_pool2d " + name,
                 [out_h, out_w](auto& in) { return adaptive_max_pool2d(in[0], out_h, out_w); },
                 {distinct_input(shape, seed++)});
    check_parity("adaptive_avg_pool2d " + name,
                 [out_h, out_w](auto& in) { return adaptive_avg_pool2d(in[0], out_h, out_w); },
                 {parity_input(shape, seed++)});
  }
  for (const Shape& shape : {Shape{1, 3, 7, 5}, Shape{2, 4, 6, 9}}) {
    check_parity("global_avg_pool2d " + shape_str(shape), [](auto& in) { return global_avg_pool2d(in[0]); },
                 {parity_input(shape, seed++)});
  }
}
