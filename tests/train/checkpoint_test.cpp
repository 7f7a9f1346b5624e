#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>

#include "kiln/models/fmnist.h"
#include "kiln/models/registry.h"
#include "kiln/train/checkpoint.h"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

struct Folder {
  explicit Folder(const std::string& name)
      : path(fs::temp_directory_path() / ("kiln_checkpoint_" + std::to_string(::getpid()) + "_" + name)) {
    fs::create_directories(path);
  }
  ~Folder() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  fs::path path;
};

train::CheckpointInfo example_info() {
  train::CheckpointInfo info;
  info.model = "fmnist-bn";
  info.classes = {"a", "b/c", "d \"e\""};
  info.input = {{0.2860402}, {0.3530239}};
  info.epoch = 4;
  info.step = 844;
  info.seed = (std::uint64_t(1) << 63) + 5;  // beyond int64
  info.shuffle_rng = {17, 215};
  info.model_rngs["dropout"] = GeneratorState{123456789012345ull, 9};
  info.epochs_without_improvement = 1;
  return info;
}

// A fmnist-bn whose batch-norm statistics have moved off their initial values.
std::shared_ptr<nn::Module> trained_bn_model(std::uint64_t seed) {
  Generator generator(seed);
  auto model = models::make_model("fmnist-bn", generator);
  model->forward(Tensor::randn({4, 1, 28, 28}, generator));
  return model;
}

bool bit_identical(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

// Rewrites a checkpoint with `edit` applied to its tensor list, keeping the metadata.
void rewrite(const std::string& path, const std::function<void(std::vector<std::pair<std::string, Tensor>>&)>& edit) {
  SafetensorsFile file = load_safetensors(path);
  edit(file.tensors);
  save_safetensors(path, file.tensors, file.metadata);
}

}  // namespace

TEST_CASE("checkpoint: save, load into a fresh model, identical outputs and metadata", "[train]") {
  Folder folder("round_trip");
  const auto model = trained_bn_model(3);
  const train::CheckpointInfo info = example_info();
  train::save_checkpoint(folder.file("model.safetensors"), *model, info);

  const train::LoadedModel loaded = train::load_model(folder.file("model.safetensors"));
  for (const auto& [name, tensor] : model->named_buffers()) {
    INFO(name);
    bool found = false;
    for (const auto& [other_name, other] : loaded.model->named_buffers()) {
      if (other_name == name) found = bit_identical(tensor, other);
    }
    CHECK(found);
  }
  Generator inputs(8);
  const Tensor images = Tensor::randn({3, 1, 28, 28}, inputs);
  model->eval();
  loaded.model->eval();
  CHECK(bit_identical(model->forward(images), loaded.model->forward(images)));

  const train::CheckpointInfo& read = loaded.info;
  CHECK(read.model == "fmnist-bn");
  CHECK(read.classes == info.classes);
  CHECK(read.input.mean == info.input.mean);
  CHECK(read.input.std == info.input.std);
  CHECK(read.epoch == 4);
  CHECK(read.step == 844);
  CHECK(read.seed == info.seed);
  CHECK(read.shuffle_rng.seed == 17);
  CHECK(read.shuffle_rng.offset == 215);
  REQUIRE(read.model_rngs.contains("dropout"));
  CHECK(read.model_rngs.at("dropout").seed == 123456789012345ull);
  CHECK(read.best_val_loss == std::numeric_limits<double>::infinity());
  CHECK(read.epochs_without_improvement == 1);
  // The dropout generator is restored into the model, so that training draws on from where it stopped.
  REQUIRE(loaded.model->named_generators().size() == 1);
  CHECK(loaded.model->named_generators()[0].generator->state().offset == 9);
}

TEST_CASE("checkpoint: missing, mis-shaped and foreign tensors are errors naming the tensor", "[train]") {
  Folder folder("broken");
  const std::string path = folder.file("model.safetensors");
  const auto model = trained_bn_model(4);
  train::CheckpointInfo info = example_info();

  SECTION("missing") {
    train::save_checkpoint(path, *model, info);
    rewrite(path, [](auto& tensors) {
      std::erase_if(tensors, [](const auto& entry) { return entry.first == "features.1.running_var"; });
    });
    CHECK_THROWS_WITH(train::load_model(path),
                      Catch::Contains("missing tensor 'features.1.running_var'") && Catch::Contains(path));
  }
  SECTION("mis-shaped") {
    info.model = "fmnist-small";
    Generator generator(5);
    train::save_checkpoint(path, *models::make_model("fmnist-small", generator), info);
    rewrite(path, [](auto& tensors) {
      for (auto& [name, tensor] : tensors) {
        if (name == "fc1.weight") tensor = Tensor::zeros({120, 287});
      }
    });
    CHECK_THROWS_WITH(train::load_model(path), Catch::Contains("'fc1.weight' has shape [120, 287]") &&
                                                   Catch::Contains("expects [120, 288]"));
  }
  SECTION("not part of the model") {
    train::save_checkpoint(path, *model, info);
    rewrite(path, [](auto& tensors) { tensors.emplace_back("head.weight", Tensor::zeros({2})); });
    CHECK_THROWS_WITH(train::load_model(path), Catch::Contains("'head.weight'") && Catch::Contains("not part"));
  }
  SECTION("missing metadata") {
    train::save_checkpoint(path, *model, info);
    SafetensorsFile file = load_safetensors(path);
    file.metadata.erase("rng_state");
    save_safetensors(path, file.tensors, file.metadata);
    CHECK_THROWS_WITH(train::load_model(path), Catch::Contains("no 'rng_state'"));
  }
  SECTION("unknown model") {
    info.model = "resnet-1000";
    train::save_checkpoint(path, *model, info);
    CHECK_THROWS_WITH(train::load_model(path), Catch::Contains("unknown model 'resnet-1000'") &&
                                                   Catch::Contains("fmnist-small, fmnist-bn"));
  }
}

TEST_CASE("checkpoint: the optimiser file sits beside the checkpoint", "[train]") {
  CHECK(train::optimizer_state_path("runs/a/last.safetensors") == "runs/a/last.optim.safetensors");
  CHECK(train::optimizer_state_path("weights") == "weights.optim.safetensors");
}
