// kiln against PyTorch: the cases written by tests/golden/make_golden.py (outputs and gradients of
// sum(output * grad_out)) must match within 1e-4 relative to each tensor's largest magnitude.
#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>

#include "kiln/kiln.h"

using namespace kiln;

namespace {

struct GoldenCase {
  explicit GoldenCase(const std::string& name)
      : file(load_safetensors(std::string(KILN_SOURCE_DIR) + "/tests/golden/data/" + name + ".safetensors")) {}
  nlohmann::json option(const std::string& key) const { return nlohmann::json::parse(file.metadata.at(key)); }
  std::int64_t option_at(const std::string& key, std::size_t index) const {
    return option(key).at(index).get<std::int64_t>();
  }
  SafetensorsFile file;
};

void expect_close(const Tensor& actual, const Tensor& expected, const std::string& what) {
  INFO(what << ": kiln " << describe(actual) << " vs PyTorch " << describe(expected));
  REQUIRE(actual.shape() == expected.shape());
  const std::vector<double> a = actual.to_vector_f64(), e = expected.to_vector_f64();
  double scale = 0;
  for (const double value : e) scale = std::max(scale, std::abs(value));
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - e[i]));
  INFO("largest difference " << worst << " at scale " << scale);
  CHECK(worst <= 1e-4 * std::max(scale, 1e-6));
}

// Marks the named inputs as leaves, runs forward, checks the output and every recorded input gradient.
void check_case(const std::string& name, const std::vector<std::string>& input_names,
                const std::function<Tensor(const GoldenCase&, const std::vector<Tensor>&)>& forward) {
  const GoldenCase golden(name);
  std::vector<Tensor> inputs;
  for (const std::string& input : input_names) {
    inputs.push_back(golden.file.at(input).clone());
    inputs.back().set_requires_grad(true);
  }
  const Tensor output = forward(golden, inputs);
  expect_close(output, golden.file.at("output"), name + " output");
  sum(mul(output, golden.file.at("grad_out"))).backward();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    expect_close(inputs[i].grad(), golden.file.at("grad_" + input_names[i]), name + " gradient of " + input_names[i]);
  }
}

Pool2dOptions pool_options(const GoldenCase& golden) {
  Pool2dOptions options;
  options.kernel_h = golden.option_at("kernel", 0), options.kernel_w = golden.option_at("kernel", 1);
  options.stride_h = golden.option_at("stride", 0), options.stride_w = golden.option_at("stride", 1);
  options.pad_h = golden.option_at("padding", 0), options.pad_w = golden.option_at("padding", 1);
  options.ceil_mode = golden.option("ceil_mode").get<bool>();
  if (golden.file.metadata.contains("count_include_pad")) {
    options.count_include_pad = golden.option("count_include_pad").get<bool>();
  }
  return options;
}

}  // namespace

TEST_CASE("golden: conv2d against PyTorch", "[golden]") {
  const auto conv = [](const GoldenCase& golden, const std::vector<Tensor>& in) {
    const Conv2dOptions options{golden.option_at("stride", 0), golden.option_at("stride", 1),
                                golden.option_at("padding", 0), golden.option_at("padding", 1)};
    return conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), options);
  };
  check_case("conv2d_stride2_pad", {"x", "weight", "bias"}, conv);
  check_case("conv2d_nobias", {"x", "weight"}, conv);
}

TEST_CASE("golden: conv_transpose2d against PyTorch", "[golden]") {
  check_case("conv_transpose2d", {"x", "weight", "bias"}, [](const GoldenCase& golden, const std::vector<Tensor>& in) {
    ConvTranspose2dOptions options;
    options.stride_h = golden.option_at("stride", 0), options.stride_w = golden.option_at("stride", 1);
    options.pad_h = golden.option_at("padding", 0), options.pad_w = golden.option_at("padding", 1);
    options.output_pad_h = golden.option_at("output_padding", 0);
    options.output_pad_w = golden.option_at("output_padding", 1);
    return conv_transpose2d(in[0], in[1], in[2], options);
  });
}

TEST_CASE("golden: linear against PyTorch", "[golden]") {
  check_case("linear", {"x", "weight", "bias"},
             [](const GoldenCase&, const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); });
}

TEST_CASE("golden: batch_norm in train, eval and frozen modes against PyTorch", "[golden]") {
  for (const std::string dims : {"1d", "2d"}) {
    for (const auto& [mode_name, mode] : {std::pair{"train", BatchNormMode::train}, {"eval", BatchNormMode::eval},
                                          {"frozen", BatchNormMode::frozen}}) {
      const std::string name = "batch_norm" + dims + "_" + mode_name;
      Tensor running_mean, running_var;
      check_case(name, {"x", "gamma", "beta"}, [&](const GoldenCase& golden, const std::vector<Tensor>& in) {
        running_mean = golden.file.at("running_mean_before").clone();
        running_var = golden.file.at("running_var_before").clone();
        const BatchNormOptions options{mode, golden.option("momentum").get<double>(),
                                       golden.option("eps").get<double>()};
        return batch_norm(in[0], in[1], in[2], running_mean, running_var, options);
      });
      const GoldenCase golden(name);
      expect_close(running_mean, golden.file.at("running_mean_after"), name + " running mean");
      expect_close(running_var, golden.file.at("running_var_after"), name + " running variance");
    }
  }
}

TEST_CASE("golden: pooling against PyTorch", "[golden]") {
  check_case("max_pool2d", {"x"}, [](const GoldenCase& golden, const std::vector<Tensor>& in) {
    return max_pool2d(in[0], pool_options(golden));
  });
  for (const std::string name : {"avg_pool2d_exclude_pad", "avg_pool2d_include_pad"}) {
    check_case(name, {"x"}, [](const GoldenCase& golden, const std::vector<Tensor>& in) {
      return avg_pool2d(in[0], pool_options(golden));
    });
  }
  check_case("adaptive_max_pool2d", {"x"}, [](const GoldenCase& golden, const std::vector<Tensor>& in) {
    return adaptive_max_pool2d(in[0], golden.option_at("output", 0), golden.option_at("output", 1));
  });
  check_case("adaptive_avg_pool2d", {"x"}, [](const GoldenCase& golden, const std::vector<Tensor>& in) {
    return adaptive_avg_pool2d(in[0], golden.option_at("output", 0), golden.option_at("output", 1));
  });
  check_case("global_avg_pool2d", {"x"},
             [](const GoldenCase&, const std::vector<Tensor>& in) { return global_avg_pool2d(in[0]); });
}

TEST_CASE("golden: bilinear resize against PyTorch", "[golden]") {
  for (const std::string name :
       {"resize_align_corners_up", "resize_align_corners_down", "resize_half_pixel_up", "resize_half_pixel_down"}) {
    check_case(name, {"x"}, [](const GoldenCase& golden, const std::vector<Tensor>& in) {
      const ResizeMode mode = golden.option("mode").get<std::string>() == "align_corners" ? ResizeMode::align_corners
                                                                                          : ResizeMode::half_pixel;
      return resize_bilinear(in[0], golden.option_at("size", 0), golden.option_at("size", 1), mode);
    });
  }
}

TEST_CASE("golden: cross_entropy against PyTorch", "[golden]") {
  for (const std::string name : {"cross_entropy", "cross_entropy_pixels"}) {
    check_case(name, {"logits"}, [](const GoldenCase& golden, const std::vector<Tensor>& in) {
      return cross_entropy(in[0], golden.file.at("targets"), golden.option("ignore_index").get<std::int32_t>());
    });
  }
  // F.cross_entropy(..., weight=w): one class weighted 0, and per pixel with ignored pixels.
  for (const std::string name : {"cross_entropy_weighted", "cross_entropy_weighted_pixels"}) {
    check_case(name, {"logits"}, [](const GoldenCase& golden, const std::vector<Tensor>& in) {
      return cross_entropy(in[0], golden.file.at("targets"), ClassWeights(golden.file.at("weight")),
                           golden.option("ignore_index").get<std::int32_t>());
    });
  }
}

namespace {

// Replays the recorded gradients through a kiln optimiser and compares the parameters with PyTorch's.
void check_optimizer_case(
    const std::string& name,
    const std::function<std::unique_ptr<optim::Optimizer>(const GoldenCase&, std::vector<nn::NamedParameter>)>& make) {
  const GoldenCase golden(name);
  Tensor weight = golden.file.at("weight_before").clone(), bias = golden.file.at("bias_before").clone();
  weight.set_requires_grad(true);
  bias.set_requires_grad(true);
  auto optimizer =
      make(golden, {{"weight", weight, nn::ParameterKind::weight}, {"bias", bias, nn::ParameterKind::bias}});
  for (int step = 0; step < golden.option("steps").get<int>(); ++step) {
    weight.set_grad(golden.file.at("grad_weight_" + std::to_string(step)).clone());
    bias.set_grad(golden.file.at("grad_bias_" + std::to_string(step)).clone());
    optimizer->step();
  }
  expect_close(weight, golden.file.at("weight_after"), name + " weight");
  expect_close(bias, golden.file.at("bias_after"), name + " bias");
}

// PyTorch's weight_decay is L2 on every parameter, biases included.
optim::L2Options l2_everywhere(const GoldenCase& golden) {
  return {golden.option("weight_decay").get<double>(), true, true};
}

}  // namespace

TEST_CASE("golden: one Adam and one SGD run against PyTorch", "[golden]") {
  check_optimizer_case("adam_step", [](const GoldenCase& golden, std::vector<nn::NamedParameter> parameters) {
    const optim::AdamOptions options{golden.option("beta1").get<double>(), golden.option("beta2").get<double>(),
                                     golden.option("eps").get<double>()};
    return std::make_unique<optim::Adam>(std::move(parameters),
                                         optim::ExponentialDecay{golden.option("lr").get<double>()},
                                         l2_everywhere(golden), options);
  });
  check_optimizer_case("sgd_step", [](const GoldenCase& golden, std::vector<nn::NamedParameter> parameters) {
    return std::make_unique<optim::SGD>(
        std::move(parameters), optim::ExponentialDecay{golden.option("lr").get<double>()}, l2_everywhere(golden),
        optim::SgdOptions{golden.option("momentum").get<double>()});
  });
}
