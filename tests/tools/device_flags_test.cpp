// The backend selection (kiln/backend.h) and its flags on kiln train, eval and predict: bad values are usage errors
// naming the flag; a library this build lacks, or one asked for on the CPU, is an error naming the flag.
#include <catch2/catch.hpp>

#include "kiln/backend.h"
#include "kiln/kiln.h"
#include "tools/commands.h"
#include "tools/device_flags.h"

using namespace kiln;

namespace {

// Restores the process-wide settings a test changes.
struct KeepBackendSettings {
  BackendSettings saved = backend_settings();
  ~KeepBackendSettings() { set_backend_settings(saved); }
};

// Parses and runs a command, which must fail before it reads any file.
void run_command(const cli::Command& command, const std::vector<std::string>& words) {
  command.run(command.parse(words));
}

}  // namespace

TEST_CASE("backend: native everywhere, TF32 off and nondeterministic search by default", "[backend]") {
  const BackendSettings settings = backend_settings();
  CHECK(settings.conv == ConvBackend::native);
  CHECK(settings.bn == BnBackend::native);
  CHECK(settings.gemm == GemmBackend::native);
  CHECK_FALSE(settings.allow_tf32);
  CHECK_FALSE(settings.deterministic);
}

TEST_CASE("backend: the switches are kept", "[backend]") {
  const KeepBackendSettings keep;
  set_allow_tf32(true);
  set_deterministic(true);
  CHECK(allow_tf32());
  CHECK(deterministic());
}

TEST_CASE("backend: a library path is refused, naming it, in a build without the libraries", "[backend]") {
  const KeepBackendSettings keep;
  if (!libraries_unavailable().empty()) {
    CHECK_THROWS_WITH(set_conv_backend(ConvBackend::cudnn),
                      Catch::Contains("conv backend cudnn") && Catch::Contains("cuDNN or cuBLAS"));
    CHECK_THROWS_WITH(set_bn_backend(BnBackend::cudnn), Catch::Contains("bn backend cudnn"));
    CHECK_THROWS_WITH(set_gemm_backend(GemmBackend::cublas), Catch::Contains("gemm backend cublas"));
    BackendSettings mixed;
    mixed.allow_tf32 = true;
    mixed.gemm = GemmBackend::cublas;
    CHECK_THROWS(set_backend_settings(mixed));
    CHECK_FALSE(allow_tf32());  // a refused setting changes nothing
    CHECK(conv_backend() == ConvBackend::native);
  } else {
    set_conv_backend(ConvBackend::cudnn);
    set_bn_backend(BnBackend::cudnn);
    set_gemm_backend(GemmBackend::cublas);
    CHECK(conv_backend() == ConvBackend::cudnn);
    CHECK(bn_backend() == BnBackend::cudnn);
    CHECK(gemm_backend() == GemmBackend::cublas);
  }
}

TEST_CASE("backend: CPU tensors take the CPU kernels whatever is selected", "[backend]") {
  const KeepBackendSettings keep;
  if (!libraries_unavailable().empty()) return;  // nothing but native can be selected
  set_backend_settings({ConvBackend::cudnn, BnBackend::cudnn, GemmBackend::cublas, false, false});
  Generator generator(3);
  const Tensor x = Tensor::uniform({2, 3, 5, 5}, -1, 1, generator);
  const Tensor weight = Tensor::uniform({4, 3, 3, 3}, -1, 1, generator);
  const Tensor y = conv2d(x, weight, Tensor(), Conv2dOptions{});
  CHECK(y.device().is_cpu());
  CHECK(y.size(1) == 4);
}

TEST_CASE("device flags: a bad backend value is a usage error naming the flag", "[backend]") {
  const KeepBackendSettings keep;
  using Case = std::pair<std::vector<std::string>, std::string>;
  const auto [words, flag] = GENERATE(Case{{"--conv", "bogus"}, "--conv"}, Case{{"--bn", "cublas"}, "--bn"},
                                      Case{{"--gemm", "cudnn"}, "--gemm"});
  const cli::Command train = tools::train_command();
  CHECK_THROWS_AS(run_command(train, words), cli::UsageError);
  CHECK_THROWS_WITH(run_command(train, words), Catch::Contains(flag) && Catch::Contains("expected"));
  std::vector<std::string> eval_words = words;
  eval_words.insert(eval_words.end(), {"--checkpoint", "missing.safetensors"});
  CHECK_THROWS_WITH(run_command(tools::eval_command(), eval_words), Catch::Contains(flag));
  std::vector<std::string> predict_words = words;
  predict_words.insert(predict_words.end(), {"--checkpoint", "missing.safetensors", "--input", "missing"});
  CHECK_THROWS_WITH(run_command(tools::predict_command(), predict_words), Catch::Contains(flag));
}

TEST_CASE("device flags: a library path is an error naming the flag without the library or on the CPU", "[backend]") {
  const KeepBackendSettings keep;
  using Case = std::pair<std::vector<std::string>, std::string>;
  const auto [words, named] = GENERATE(Case{{"--conv", "cudnn"}, "--conv cudnn"}, Case{{"--bn", "cudnn"}, "--bn cudnn"},
                                       Case{{"--gemm", "cublas"}, "--gemm cublas"});
  std::vector<std::string> on_cpu = words;
  on_cpu.insert(on_cpu.end(), {"--device", "cpu"});
  const cli::Command train = tools::train_command();
  // Without the libraries the build is named as the reason; with them, the CPU device is.
  const std::string reason = libraries_unavailable().empty() ? "runs on CUDA devices" : "cuDNN or cuBLAS";
  CHECK_THROWS_WITH(tools::device_from_flags(train.parse(on_cpu)), Catch::Contains(named) && Catch::Contains(reason));
  CHECK_THROWS_WITH(run_command(train, on_cpu), Catch::Contains(named));
  CHECK(backend_settings().conv == ConvBackend::native);
}

TEST_CASE("device flags: the switches reach the settings", "[backend]") {
  const KeepBackendSettings keep;
  const cli::Command eval = tools::eval_command();
  CHECK(tools::device_from_flags(eval.parse({"--device", "cpu", "--tf32", "--deterministic"})) == Device::cpu());
  CHECK(allow_tf32());
  CHECK(deterministic());
  CHECK(tools::device_from_flags(eval.parse({"--device", "cpu"})) == Device::cpu());
  CHECK_FALSE(allow_tf32());
  CHECK(eval.help().find("--conv") != std::string::npos);
}
