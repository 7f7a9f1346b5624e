// A training step on a CUDA device reads nothing back to the host: the loss, its count of targets and the metrics
// stay on the device, and the trainer reads them when it reports. kiln::cuda_device_to_host_copies() counts every copy
// from a device to the host (each one a synchronisation with the device).
#include <catch2/catch.hpp>
#include <memory>
#include <utility>
#include <vector>

#include "kiln/kiln.h"
#include "kiln/ops/metrics.h"
#include "kiln/train/trainer.h"

using namespace kiln;

namespace {

const Device cuda = Device::cuda(0);

std::uint64_t reads() { return cuda_device_to_host_copies(); }

data::LabelledImages image_set(std::int64_t count, std::uint64_t seed) {
  Generator generator(seed);
  data::LabelledImages set;
  set.images = Tensor::uniform({count, 1, 28, 28}, 0, 1, generator);
  std::vector<std::int32_t> labels(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int32_t>(i * 3 % 10);
  set.labels = Tensor::from_vector(labels, {count});
  for (int c = 0; c < 10; ++c) set.classes.push_back("class " + std::to_string(c));
  return set;
}

// An in-memory source that notes the device-to-host copy count whenever the trainer asks for a batch, so that the
// copies between two calls are one step's.
class CountingSource : public data::DataSource {
 public:
  explicit CountingSource(data::LabelledImages set) : source_(std::move(set)) {}
  std::int64_t size() const override { return source_.size(); }
  const std::vector<std::string>& classes() const override { return source_.classes(); }
  void start_epoch(std::vector<std::int64_t> order, std::int64_t batch_size,
                   std::optional<std::int64_t> augment_epoch) override {
    source_.start_epoch(std::move(order), batch_size, augment_epoch);
  }
  std::optional<data::Batch> next() override {
    marks.push_back(reads());
    return source_.next();
  }

  std::vector<std::uint64_t> marks;  // the count at each next()

 private:
  data::InMemorySource source_;
};

}  // namespace

TEST_CASE("device reads: the counter counts copies from the device to the host, and only those", "[device reads]") {
  const Tensor host = Tensor::from_vector(std::vector<float>{1, 2, 3}, {3});
  std::uint64_t before = reads();
  const Tensor device = host.to(cuda);
  const Tensor copy = device.clone();
  CHECK(reads() == before);
  CHECK(copy.cpu().to_vector() == std::vector<float>{1, 2, 3});
  CHECK(reads() == before + 1);
  before = reads();
  CHECK(sum(device).item() == 6.0);
  CHECK(reads() == before + 1);
}

TEST_CASE("device reads: cross_entropy, sum, mean and the confusion counts read nothing from the device",
          "[device reads]") {
  Generator generator(21);
  Tensor logits = Tensor::randn({6, 10}, generator, DType::f32, cuda);
  logits.set_requires_grad(true);
  const Tensor targets = Tensor::from_vector(std::vector<std::int32_t>{3, 0, 9, -100, 3, 7}, {6}).to(cuda);
  Tensor x = Tensor::randn({7, 13}, generator, DType::f32, cuda);
  x.set_requires_grad(true);
  Tensor confusion = Tensor::zeros({10, 10}, DType::i32, cuda);
  const Tensor labels = Tensor::from_vector(std::vector<std::int32_t>{3, 0, 9, 1, 3, 7}, {6}).to(cuda);
  Tensor losses = Tensor::zeros({3}, DType::f32, cuda);

  const std::uint64_t before = reads();
  const Tensor loss = cross_entropy(logits, targets);
  loss.backward();
  sum(x).backward();
  mean(x).backward();
  accumulate_confusion(confusion, logits.detach(), labels);
  losses.narrow(0, 1, 1).copy_from(loss.detach().reshape({1}));
  CHECK(reads() == before);

  // What the kernels left on the device is what the CPU computes.
  const std::vector<float> kept = losses.to_vector();
  CHECK(kept[1] == static_cast<float>(loss.item()));
  const Tensor cpu_logits = logits.detach().cpu().set_requires_grad(true);
  const Tensor cpu_loss = cross_entropy(cpu_logits, targets.cpu());
  cpu_loss.backward();
  CHECK(loss.item() == Approx(cpu_loss.item()).epsilon(1e-5));
  const std::vector<float> gradient = logits.grad().to_vector(), cpu_gradient = cpu_logits.grad().to_vector();
  for (std::size_t i = 0; i < gradient.size(); ++i) CHECK(gradient[i] == Approx(cpu_gradient[i]).margin(1e-6));
  // sum's and mean's gradients are exact: 1 + 1/91 everywhere, as on the CPU.
  const Tensor cpu_x = x.detach().cpu().set_requires_grad(true);
  sum(cpu_x).backward();
  mean(cpu_x).backward();
  CHECK(x.grad().to_vector() == cpu_x.grad().to_vector());
  Tensor cpu_confusion = Tensor::zeros({10, 10}, DType::i32);
  accumulate_confusion(cpu_confusion, cpu_logits.detach(), labels.cpu());
  CHECK(confusion.to_vector() == cpu_confusion.to_vector());
}

// Assumes the trainer reads the loss and the metrics only for a progress report (hooks.on_step) and at the epoch's
// end: with on_step unset, a steady step makes no copy, and the training part of the epoch's end (before the
// validation's first batch) at most 4. fmnist-small with Adam; fmnist-bn (batch norm, dropout) with SGD.
TEST_CASE("device reads: a steady training step on the device copies nothing to the host", "[device reads]") {
  constexpr std::int64_t batch = 4, steps = 5;
  for (const auto& [model, optimizer] : {std::pair{"fmnist-small", "adam"}, std::pair{"fmnist-bn", "sgd"}}) {
    INFO(model << " with " << optimizer);
    train::TrainConfig config;
    config.model = model;
    config.optimizer = optimizer;
    config.epochs = 1;
    config.batch_size = batch;
    config.seed = 5;
    config.device = cuda;
    auto train_source = std::make_unique<CountingSource>(image_set(batch * steps, 1));
    auto validation_source = std::make_unique<CountingSource>(image_set(batch, 2));
    const CountingSource& training = *train_source;
    const CountingSource& validation = *validation_source;
    train::TrainingData data;
    data.train = std::move(train_source);
    data.validation = std::move(validation_source);
    data.input = {{0.5}, {0.25}};
    train::Trainer trainer(config, std::move(data));
    REQUIRE(trainer.fit() == train::TrainOutcome::completed);

    REQUIRE(training.marks.size() == steps + 1);  // each step's batch, then the epoch's end
    REQUIRE(!validation.marks.empty());
    for (std::size_t step = 2; step < training.marks.size(); ++step) {  // the first step may warm up
      INFO("step " << step << " of " << steps);
      CHECK(training.marks[step] - training.marks[step - 1] == 0);
    }
    INFO("copies at the epoch's end, before validation");
    CHECK(validation.marks.front() - training.marks.back() <= 4);
  }
}
