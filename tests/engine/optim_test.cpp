#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>

#include "kernels/multi_tensor.h"
#include "kiln/kiln.h"

using namespace kiln;
using nn::NamedParameter;
using nn::ParameterKind;
using optim::ExponentialDecay;
using optim::L2Options;

namespace {

NamedParameter parameter(const std::string& name, const std::vector<double>& values,
                         ParameterKind kind = ParameterKind::weight) {
  Tensor tensor = Tensor::from_vector(values, {static_cast<std::int64_t>(values.size())});
  tensor.set_requires_grad(true);
  return {name, tensor, kind};
}

void set_grad(const NamedParameter& p, const std::vector<double>& values) {
  p.tensor.set_grad(Tensor::from_vector(values, p.tensor.shape()));
}

ExponentialDecay constant(double lr) { return {lr, 1.0, 1.0, false}; }

// Records the gradient each update applies (the loss gradient plus l2 * w), to see exactly what L2 added.
class RecordingOptimizer : public optim::Optimizer {
 public:
  using Optimizer::Optimizer;
  std::vector<nn::NamedBuffer> state() const override { return {}; }
  std::vector<std::vector<double>> received;

 protected:
  void update(std::span<const Gradient> group, double) override {
    received.resize(parameters_.size());
    for (const Gradient& gradient : group) {
      received[gradient.index] = gradient.grad.to_vector_f64();
      const std::vector<double> weight = parameters_[gradient.index].tensor.to_vector_f64();
      for (std::size_t i = 0; i < weight.size(); ++i) received[gradient.index][i] += gradient.l2 * weight[i];
    }
  }
};

}  // namespace

TEST_CASE("optim: learning-rate schedule, continuous and staircase", "[optim]") {
  const ExponentialDecay continuous{0.1, 0.5, 4, false};
  CHECK(continuous.at(0) == Approx(0.1).epsilon(1e-15));
  CHECK(continuous.at(2) == Approx(0.1 * std::sqrt(0.5)).epsilon(1e-15));  // 0.0707...
  CHECK(continuous.at(4) == Approx(0.05).epsilon(1e-15));
  CHECK(continuous.at(6) == Approx(0.1 * 0.5 * std::sqrt(0.5)).epsilon(1e-15));
  const ExponentialDecay staircase{0.1, 0.5, 4, true};
  CHECK(staircase.at(3) == Approx(0.1).epsilon(1e-15));
  CHECK(staircase.at(4) == Approx(0.05).epsilon(1e-15));
  CHECK(staircase.at(7) == Approx(0.05).epsilon(1e-15));
  CHECK(staircase.at(8) == Approx(0.025).epsilon(1e-15));
  CHECK(ExponentialDecay{0.3, 1.0, 10, false}.at(1000) == 0.3);
  CHECK_THROWS_WITH((ExponentialDecay{0.1, 0.5, 0, false}.at(1)), Catch::Contains("decay_steps"));

  // Update k uses the rate of the k steps taken before it: lr 1, 1, 0.5, 0.5 with a constant gradient of 1.
  NamedParameter w = parameter("w", {0.0});
  set_grad(w, {1.0});
  optim::SGD sgd({w}, {1.0, 0.5, 2, true});
  std::vector<double> rates, trajectory;
  for (int k = 0; k < 4; ++k) {
    rates.push_back(sgd.learning_rate());
    sgd.step();
    trajectory.push_back(w.tensor.item());
  }
  CHECK(rates == std::vector<double>{1.0, 1.0, 0.5, 0.5});
  CHECK(trajectory == std::vector<double>{-1.0, -2.0, -2.5, -3.0});
  CHECK(sgd.steps_taken() == 4);
}

TEST_CASE("optim: Adam steps match torch.optim.Adam's formulas in double", "[optim]") {
  const std::vector<double> w0 = {1.0, -2.0, 0.5}, g1 = {0.5, -1.0, 2e-3}, g2 = {0.1, 0.3, -4.0};
  const double lr = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  NamedParameter w = parameter("w", w0);
  NamedParameter untouched = parameter("frozen", {7.0});  // no gradient: skipped
  optim::Adam adam({w, untouched}, constant(lr));

  set_grad(w, g1);
  adam.step();
  // First step: m_hat = g and v_hat = g^2, so each weight moves by lr * g / (|g| + eps).
  std::vector<double> w1(3);
  for (std::size_t i = 0; i < 3; ++i) {
    w1[i] = w0[i] - lr * g1[i] / (std::abs(g1[i]) + eps);
    CHECK(w.tensor.to_vector_f64()[i] == Approx(w1[i]).epsilon(1e-13));
  }

  set_grad(w, g2);
  adam.step();
  for (std::size_t i = 0; i < 3; ++i) {
    const double m = beta1 * (1 - beta1) * g1[i] + (1 - beta1) * g2[i];
    const double v = beta2 * (1 - beta2) * g1[i] * g1[i] + (1 - beta2) * g2[i] * g2[i];
    const double m_hat = m / (1 - beta1 * beta1), v_hat = v / (1 - beta2 * beta2);
    const double expected = w1[i] - lr * m_hat / (std::sqrt(v_hat) + eps);
    CHECK(w.tensor.to_vector_f64()[i] == Approx(expected).epsilon(1e-13));
    CHECK(adam.state()[0].tensor.to_vector_f64()[i] == Approx(m).epsilon(1e-14));
    CHECK(adam.state()[1].tensor.to_vector_f64()[i] == Approx(v).epsilon(1e-14));
  }
  CHECK(untouched.tensor.item() == 7.0);
  CHECK(adam.steps_taken() == 2);
  CHECK(adam.state()[0].name == "exp_avg.w");
  CHECK(adam.state()[1].name == "exp_avg_sq.w");
  CHECK(adam.state()[3].name == "exp_avg_sq.frozen");
}

TEST_CASE("optim: SGD with momentum and Nesterov matches torch.optim.SGD", "[optim]") {
  // lr 0.1, momentum 0.9, gradients (1, -0.5) then (2, 0), worked by hand:
  //   momentum: v = (1, -0.5) -> w = (0.9, -0.95); v = (2.9, -0.45) -> w = (0.61, -0.905)
  //   Nesterov: w -= lr * (g + 0.9 v): w = (0.81, -0.905); then (0.349, -0.8645)
  const auto run = [](optim::SgdOptions options) {
    NamedParameter w = parameter("w", {1.0, -1.0});
    optim::SGD sgd({w}, constant(0.1), {}, options);
    std::vector<std::vector<double>> trajectory;
    for (const std::vector<double>& g : {std::vector<double>{1.0, -0.5}, std::vector<double>{2.0, 0.0}}) {
      set_grad(w, g);
      sgd.step();
      trajectory.push_back(w.tensor.to_vector_f64());
    }
    return std::pair{trajectory, sgd.state()};
  };
  const auto expect_near = [](const std::vector<double>& actual, const std::vector<double>& expected) {
    REQUIRE(actual.size() == expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) CHECK(actual[i] == Approx(expected[i]).epsilon(1e-14));
  };

  const auto [momentum, momentum_state] = run({0.9, false});
  expect_near(momentum[0], {0.9, -0.95});
  expect_near(momentum[1], {0.61, -0.905});
  REQUIRE(momentum_state.size() == 1);
  CHECK(momentum_state[0].name == "momentum_buffer.w");
  expect_near(momentum_state[0].tensor.to_vector_f64(), {2.9, -0.45});

  const auto [nesterov, nesterov_state] = run({0.9, true});
  expect_near(nesterov[0], {0.81, -0.905});
  expect_near(nesterov[1], {0.349, -0.8645});

  const auto [plain, plain_state] = run({});
  expect_near(plain[1], {0.7, -0.95});
  CHECK(plain_state.empty());
  CHECK_THROWS_WITH(optim::SGD({parameter("w", {1.0})}, constant(0.1), {}, {0.0, true}), Catch::Contains("Nesterov"));
}

TEST_CASE("optim: one step over parameters of many chunks and two dtypes updates each as if alone", "[optim]") {
  // One pass runs over the chunks of every parameter of a dtype: each must get its own elements, state and L2.
  struct Case {
    std::int64_t size;
    DType dtype;
    ParameterKind kind;
  };
  const std::vector<Case> cases = {{2 * kernels::chunk_elements + 5, DType::f32, ParameterKind::weight},
                                   {1, DType::f32, ParameterKind::bias},
                                   {37, DType::f64, ParameterKind::weight},
                                   {kernels::chunk_elements, DType::f32, ParameterKind::norm},
                                   {kernels::chunk_elements + 1, DType::f64, ParameterKind::bias}};
  const std::vector<std::function<std::unique_ptr<optim::Optimizer>(std::vector<NamedParameter>)>> factories = {
      [](std::vector<NamedParameter> p) {
        return std::make_unique<optim::Adam>(std::move(p), constant(0.01), L2Options{0.1, false, true});
      },
      [](std::vector<NamedParameter> p) {
        return std::make_unique<optim::SGD>(std::move(p), constant(0.1), L2Options{0.1, true, false},
                                            optim::SgdOptions{0.9, true});
      }};
  for (std::size_t f = 0; f < factories.size(); ++f) {
    INFO("optimizer " << f);
    // Runs two steps over the chosen cases, drawing every case's values in the same order whatever is chosen.
    const auto run = [&](const std::vector<std::size_t>& chosen) {
      Generator generator(7);
      std::vector<Tensor> values, gradients;
      for (const Case& c : cases) {
        values.push_back(Tensor::randn({c.size}, generator, c.dtype));
        gradients.push_back(Tensor::randn({c.size}, generator, c.dtype));
      }
      std::vector<NamedParameter> named;
      for (const std::size_t i : chosen) {
        values[i].set_requires_grad(true);
        named.push_back({std::to_string(i), values[i], cases[i].kind});
      }
      auto optimizer = factories[f](named);
      for (int step = 0; step < 2; ++step) {
        for (const std::size_t i : chosen) values[i].set_grad(gradients[i]);
        optimizer->step();
      }
      return values;
    };
    const std::vector<Tensor> together = run({0, 1, 2, 3, 4});
    for (std::size_t i = 0; i < cases.size(); ++i) {
      INFO("parameter " << i);
      CHECK(run({i})[i].to_vector_f64() == together[i].to_vector_f64());
    }
  }
}

TEST_CASE("optim: L2 excludes biases and batch-norm parameters unless configured", "[optim]") {
  L2Options defaults;
  CHECK(defaults.applies_to(ParameterKind::weight));
  CHECK_FALSE(defaults.applies_to(ParameterKind::bias));
  CHECK_FALSE(defaults.applies_to(ParameterKind::norm));
  CHECK(L2Options{0.1, true, false}.applies_to(ParameterKind::bias));
  CHECK(L2Options{0.1, false, true}.applies_to(ParameterKind::norm));

  // Powers of two make g + lambda * w exact, so the difference must equal lambda * w bit for bit.
  const double lambda = 0.5;
  const std::vector<std::vector<double>> weights = {{1.5, -0.75}, {2.0}, {-3.0}};
  const std::vector<std::vector<double>> grads = {{0.25, 0.5}, {0.125}, {1.0}};
  for (const bool include_all : {false, true}) {
    INFO("include biases and norm: " << include_all);
    const std::vector<NamedParameter> parameters = {parameter("conv.weight", weights[0]),
                                                    parameter("conv.bias", weights[1], ParameterKind::bias),
                                                    parameter("bn.weight", weights[2], ParameterKind::norm)};
    for (std::size_t p = 0; p < parameters.size(); ++p) set_grad(parameters[p], grads[p]);
    RecordingOptimizer optimizer(parameters, constant(1.0), {lambda, include_all, include_all});
    optimizer.step();
    for (std::size_t p = 0; p < parameters.size(); ++p) {
      const bool regularised = p == 0 || include_all;
      for (std::size_t i = 0; i < weights[p].size(); ++i) {
        CHECK(optimizer.received[p][i] - grads[p][i] == (regularised ? lambda * weights[p][i] : 0.0));
      }
      CHECK(parameters[p].tensor.grad().to_vector_f64() == grads[p]);  // the leaf's own gradient is not changed
    }
  }
}

TEST_CASE("optim: l2_penalty is lambda/2 * sum of squares over included parameters, differentiable", "[optim]") {
  const std::vector<NamedParameter> parameters = {parameter("w", {1.5, -0.75}),
                                                  parameter("b", {2.0}, ParameterKind::bias),
                                                  parameter("gamma", {-3.0}, ParameterKind::norm)};
  // 0.25 * (2.25 + 0.5625) = 0.703125; with b and gamma: + 0.25 * (4 + 9) = 3.953125.
  const Tensor weights_only = optim::l2_penalty(parameters, {0.5, false, false});
  CHECK(weights_only.item() == 0.703125);
  CHECK(optim::l2_penalty(parameters, {0.5, true, true}).item() == 3.953125);
  CHECK(optim::l2_penalty({parameters[1]}, {0.5, false, false}).item() == 0.0);
  weights_only.backward();
  CHECK(parameters[0].tensor.grad().to_vector_f64() == std::vector<double>{0.75, -0.375});  // lambda * w
  CHECK_FALSE(parameters[1].tensor.grad().defined());
}

TEST_CASE("optim: saved and reloaded state continues identically", "[optim]") {
  using Factory = std::function<std::unique_ptr<optim::Optimizer>(std::vector<NamedParameter>)>;
  const ExponentialDecay decay{0.05, 0.5, 2, false};
  const std::vector<std::pair<std::string, Factory>> factories = {
      {"Adam", [&](std::vector<NamedParameter> p) { return std::make_unique<optim::Adam>(std::move(p), decay); }},
      {"SGD Nesterov", [&](std::vector<NamedParameter> p) {
         return std::make_unique<optim::SGD>(std::move(p), decay, L2Options{0.01}, optim::SgdOptions{0.9, true});
       }}};
  const auto folder = std::filesystem::temp_directory_path() / ("kiln_optim_" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  const std::string path = (folder / "state.safetensors").string();

  for (const auto& [label, make] : factories) {
    INFO(label);
    const auto make_parameters = [] {
      Generator generator(5);
      std::vector<NamedParameter> p = {{"a.weight", Tensor::randn({3, 4}, generator)},
                                       {"a.bias", Tensor::randn({3}, generator), ParameterKind::bias}};
      for (NamedParameter& each : p) each.tensor.set_requires_grad(true);
      return p;
    };
    // Gradients that depend on the weights, so that a wrong continuation shows up.
    const auto step_with_gradients = [](optim::Optimizer& optimizer, const std::vector<NamedParameter>& p, int k) {
      for (const NamedParameter& each : p) {
        std::vector<float> g = each.tensor.to_vector();
        for (std::size_t i = 0; i < g.size(); ++i) g[i] = 0.5f * g[i] * g[i] - 0.1f * float(k) + 0.01f * float(i);
        each.tensor.set_grad(Tensor::from_vector(g, each.tensor.shape()));
      }
      optimizer.step();
    };

    std::vector<NamedParameter> original = make_parameters();
    auto first = make(original);
    for (int k = 0; k < 3; ++k) step_with_gradients(*first, original, k);
    std::vector<std::pair<std::string, Tensor>> checkpoint;
    for (const NamedParameter& each : original) checkpoint.emplace_back(each.name, each.tensor);
    for (const nn::NamedBuffer& each : first->state()) checkpoint.emplace_back("optimizer." + each.name, each.tensor);
    save_safetensors(path, checkpoint, {{"step", std::to_string(first->steps_taken())}});
    for (int k = 3; k < 6; ++k) step_with_gradients(*first, original, k);

    const SafetensorsFile loaded = load_safetensors(path);
    std::vector<NamedParameter> resumed = make_parameters();
    for (NamedParameter& each : resumed) each.tensor.copy_from(loaded.at(each.name));
    auto second = make(resumed);
    std::vector<nn::NamedBuffer> state;
    for (const nn::NamedBuffer& each : second->state()) {
      state.push_back({each.name, loaded.at("optimizer." + each.name)});
    }
    second->load_state(state, std::stoll(loaded.metadata.at("step")));
    CHECK(second->learning_rate() == decay.at(3));
    for (int k = 3; k < 6; ++k) step_with_gradients(*second, resumed, k);
    for (std::size_t p = 0; p < original.size(); ++p) {
      CHECK(resumed[p].tensor.to_vector() == original[p].tensor.to_vector());
    }

    // A state that does not fit is rejected whole.
    std::vector<nn::NamedBuffer> missing(state.begin() + 1, state.end());
    CHECK_THROWS_WITH(second->load_state(missing, 3), Catch::Contains("missing") && Catch::Contains(state[0].name));
    std::vector<nn::NamedBuffer> extra = state;
    extra.push_back({"exp_avg.unknown", Tensor::zeros({1})});
    CHECK_THROWS_WITH(second->load_state(extra, 3), Catch::Contains("unexpected") && Catch::Contains("unknown"));
    std::vector<nn::NamedBuffer> reshaped = state;
    reshaped[0].tensor = Tensor::zeros({2});
    CHECK_THROWS_WITH(second->load_state(reshaped, 3), Catch::Contains(state[0].name) && Catch::Contains("[2]"));
  }
  std::filesystem::remove_all(folder);
}
