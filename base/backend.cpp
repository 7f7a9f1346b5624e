// The backend selection (kiln/backend.h): one atomic per setting, read by the ops on every CUDA call.
#include "kiln/backend.h"

#include <atomic>

#include "kiln/error.h"

namespace kiln {
namespace {

std::atomic<ConvBackend> conv_choice{ConvBackend::native};
std::atomic<BnBackend> bn_choice{BnBackend::native};
std::atomic<GemmBackend> gemm_choice{GemmBackend::native};
std::atomic<bool> tf32_allowed{false};
std::atomic<bool> deterministic_only{false};

void require_library(std::string_view family, std::string_view library, bool chosen) {
  if (chosen && !libraries_unavailable().empty()) fail(family, " backend ", library, ": ", libraries_unavailable());
}

}  // namespace

std::string_view libraries_unavailable() {
#if KILN_HAVE_CUDA
  return {};
#elif KILN_CUDA_EMULATED
  return "this kiln runs its CUDA kernels on the SIMT emulator, which has no cuDNN or cuBLAS (only native is "
         "available; build with -DKILN_CUDA=ON for the library paths)";
#else
  return "this kiln was built without CUDA (CPU only), so without cuDNN or cuBLAS (only native is available)";
#endif
}

BackendSettings backend_settings() {
  return {conv_choice.load(), bn_choice.load(), gemm_choice.load(), tf32_allowed.load(), deterministic_only.load()};
}

void set_backend_settings(const BackendSettings& settings) {
  require_library("conv", backend_name(settings.conv), settings.conv != ConvBackend::native);
  require_library("bn", backend_name(settings.bn), settings.bn != BnBackend::native);
  require_library("gemm", backend_name(settings.gemm), settings.gemm != GemmBackend::native);
  conv_choice.store(settings.conv);
  bn_choice.store(settings.bn);
  gemm_choice.store(settings.gemm);
  tf32_allowed.store(settings.allow_tf32);
  deterministic_only.store(settings.deterministic);
}

// Each single setter changes one field of the whole, so that the library check lives in one place.
void set_conv_backend(ConvBackend backend) {
  BackendSettings settings = backend_settings();
  settings.conv = backend;
  set_backend_settings(settings);
}
void set_bn_backend(BnBackend backend) {
  BackendSettings settings = backend_settings();
  settings.bn = backend;
  set_backend_settings(settings);
}
void set_gemm_backend(GemmBackend backend) {
  BackendSettings settings = backend_settings();
  settings.gemm = backend;
  set_backend_settings(settings);
}
void set_allow_tf32(bool allow) { tf32_allowed.store(allow); }
void set_deterministic(bool deterministic) { deterministic_only.store(deterministic); }

ConvBackend conv_backend() { return conv_choice.load(); }
BnBackend bn_backend() { return bn_choice.load(); }
GemmBackend gemm_backend() { return gemm_choice.load(); }
bool allow_tf32() { return tf32_allowed.load(); }
bool deterministic() { return deterministic_only.load(); }

std::string_view backend_name(ConvBackend backend) { return backend == ConvBackend::cudnn ? "cudnn" : "native"; }
std::string_view backend_name(BnBackend backend) { return backend == BnBackend::cudnn ? "cudnn" : "native"; }
std::string_view backend_name(GemmBackend backend) { return backend == GemmBackend::cublas ? "cublas" : "native"; }

}  // namespace kiln
