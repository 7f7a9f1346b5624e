// CPU-only build: every CUDA entry point says clearly that this kiln has no CUDA backend.
#include "base/cuda/index_check.h"
#include "base/cuda/runtime.h"
#include "kiln/error.h"

namespace kiln {

int cuda_device_count() { return 0; }
std::string cuda_status_line() { return "CUDA: not built in (CPU only); using the CPU"; }
std::uint64_t cuda_device_to_host_copies() { return 0; }

namespace cuda {
namespace {
[[noreturn]] void no_cuda(const char* what) {
  fail(what, ": this kiln was built without CUDA (CPU only); rebuild with -DKILN_CUDA=ON to use cuda devices");
}
}  // namespace

void* allocate(std::size_t, int) { no_cuda("allocate on cuda"); }
void release(void*, int) noexcept {}
void* allocate_pinned(std::size_t) { no_cuda("allocate pinned host memory"); }
void release_pinned(void*) noexcept {}
void copy(void*, Device, const void*, Device, std::size_t) { no_cuda("copy to/from cuda"); }
void synchronize(int) { no_cuda("synchronize cuda"); }
void fill32(void*, std::size_t, unsigned, int) { no_cuda("fill on cuda"); }
void fill64(void*, std::size_t, unsigned long long, int) { no_cuda("fill on cuda"); }
IndexCheckFailure* index_check_record(int) { no_cuda("check indices on cuda"); }
std::string build_versions() { return "CPU only"; }

}  // namespace cuda
}  // namespace kiln
