#include "tools/device_flags.h"

#include <initializer_list>

#include "kiln/backend.h"

namespace kiln::tools {
namespace {

// The value of a backend flag among its choices (named by backend_name).
template <class Choice>
Choice parse_choice(const cli::Arguments& arguments, const std::string& flag, std::initializer_list<Choice> choices) {
  const std::string text = arguments.text(flag);
  std::string expected;
  for (const Choice choice : choices) {
    if (backend_name(choice) == text) return choice;
    expected += (expected.empty() ? "" : " or ") + std::string(backend_name(choice));
  }
  throw cli::UsageError(flag + ": unknown value '" + text + "' (expected " + expected + ")");
}

Device parse_device(const cli::Arguments& arguments) {
  const std::string text = arguments.text("--device");
  if (text == "auto") return best_device();
  Device device;
  try {
    device = Device::parse(text);
  } catch (const Error& error) {
    throw cli::UsageError(std::string("--device: ") + error.what());
  }
  KILN_CHECK(device.is_cpu() || device.index < cuda_device_count(), "--device ", text, ": ",
             cuda_device_count() == 0 ? "no usable CUDA device" : "no CUDA device with that index", " (",
             cuda_status_line(), ")");
  return device;
}

// A library backend needs a build with the libraries and a CUDA device to run on.
template <class Choice>
void check_library_choice(const std::string& flag, Choice choice, Choice native, const Device& device) {
  if (choice == native) return;
  KILN_CHECK(libraries_unavailable().empty(), flag, " ", backend_name(choice), ": ", libraries_unavailable());
  KILN_CHECK(device.is_cuda(), flag, " ", backend_name(choice),
             ": the library runs on CUDA devices, and the ops run on ", device.str(), " (pass --device cuda)");
}

}  // namespace

std::vector<cli::Option> device_flags(const std::string& device_help) {
  return {
      {"--device", {}, "cpu|cuda|auto", device_help, "auto"},
      {"--conv", {}, "native|cudnn", "CUDA convolutions: kiln's kernels or cuDNN", "native"},
      {"--bn", {}, "native|cudnn", "CUDA batch norm: kiln's kernels or cuDNN", "native"},
      {"--gemm", {}, "native|cublas", "CUDA linear layers' GEMM: kiln's kernel or cuBLAS", "native"},
      {"--tf32", {}, "", "let cuDNN and cuBLAS use TF32 tensor cores (default: full float32)", ""},
      {"--deterministic", {}, "", "deterministic cuDNN algorithms only (bit-identical reruns)", ""},
  };
}

Device device_from_flags(const cli::Arguments& arguments) {
  BackendSettings settings;
  settings.conv = parse_choice(arguments, "--conv", {ConvBackend::native, ConvBackend::cudnn});
  settings.bn = parse_choice(arguments, "--bn", {BnBackend::native, BnBackend::cudnn});
  settings.gemm = parse_choice(arguments, "--gemm", {GemmBackend::native, GemmBackend::cublas});
  settings.allow_tf32 = arguments.flag("--tf32");
  settings.deterministic = arguments.flag("--deterministic");
  const Device device = parse_device(arguments);
  check_library_choice("--conv", settings.conv, ConvBackend::native, device);
  check_library_choice("--bn", settings.bn, BnBackend::native, device);
  check_library_choice("--gemm", settings.gemm, GemmBackend::native, device);
  set_backend_settings(settings);
  return device;
}

}  // namespace kiln::tools
