#pragma once
// Which implementation runs an op family on CUDA tensors: kiln's handwritten kernels (native, the default) or NVIDIA's
// libraries (cuDNN for convolution and batch norm, cuBLAS for the GEMM of linear layers); plus the TF32 and
// deterministic switches those libraries honour. The settings are process-wide and read by the ops each call; CPU
// tensors always take the CPU kernels. Transposed convolution has no library path (always native).
#include <string_view>

namespace kiln {

enum class ConvBackend { native, cudnn };
enum class BnBackend { native, cudnn };
enum class GemmBackend { native, cublas };

struct BackendSettings {
  ConvBackend conv = ConvBackend::native;
  BnBackend bn = BnBackend::native;
  GemmBackend gemm = GemmBackend::native;
  // TF32 tensor cores (10-bit mantissa products) in cuBLAS and cuDNN; off: full float32, as the CPU computes.
  bool allow_tf32 = false;
  // Deterministic cuDNN algorithms only, so that two runs give bit-identical results. The native kernels are
  // deterministic in either mode (their reductions use fixed-order trees, no atomics).
  bool deterministic = false;
};

BackendSettings backend_settings();
// Throws kiln::Error, changing nothing, when a chosen library is not in this build (CPU-only and SIMT emulation
// builds have neither cuDNN nor cuBLAS).
void set_backend_settings(const BackendSettings& settings);
void set_conv_backend(ConvBackend backend);
void set_bn_backend(BnBackend backend);
void set_gemm_backend(GemmBackend backend);
void set_allow_tf32(bool allow);
void set_deterministic(bool deterministic);

ConvBackend conv_backend();
BnBackend bn_backend();
GemmBackend gemm_backend();
bool allow_tf32();
bool deterministic();

// Why this build cannot select cuDNN or cuBLAS (CPU-only and SIMT emulation builds have neither), or empty when it
// can.
std::string_view libraries_unavailable();

// "native", "cudnn", "cublas".
std::string_view backend_name(ConvBackend backend);
std::string_view backend_name(BnBackend backend);
std::string_view backend_name(GemmBackend backend);

}  // namespace kiln
