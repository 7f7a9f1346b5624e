// The training loop's steady state allocates nothing: between two steps of the Trainer (batch, forward, loss,
// backward, optimiser, metrics) no operator new and no malloc-family call is made on any thread, the image reader's
// decoder threads included.
//
// This test is its own executable: it replaces the global operator new/delete and interposes malloc, calloc, realloc,
// aligned_alloc and posix_memalign, counting calls while a window is open. It cannot run under ASan (which owns
// malloc), so the sanitizer build leaves it out. To find where a failing count comes from, run it with
// KILN_ALLOCATION_TRACES=1: the call stacks of the first counted allocations are printed to stderr (resolve the
// addresses with addr2line -f -C -e <binary>).
#include <catch2/catch.hpp>
#include <atomic>
#include <cstdlib>
#include <new>
#include <execinfo.h>
#include <sstream>
#include <unistd.h>

#include "kiln/train/trainer.h"
#include "tests/data/image_files.h"
#include "tests/train/colour_folders.h"

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* pointer, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void __libc_free(void* pointer);
}

namespace {

std::atomic<bool> counting{false};
std::atomic<std::int64_t> allocations{0};

// Optional call stacks of the first allocations counted (KILN_ALLOCATION_TRACES=1).
constexpr int traced_allocations = 64, trace_depth = 12;
void* traces[traced_allocations][trace_depth];
int trace_sizes[traced_allocations];
const bool tracing = std::getenv("KILN_ALLOCATION_TRACES") != nullptr;
thread_local bool inside_trace = false;  // backtrace() may allocate on its first call

void note_allocation() {
  if (!counting.load(std::memory_order_relaxed)) return;
  const std::int64_t index = allocations.fetch_add(1, std::memory_order_relaxed);
  if (tracing && index < traced_allocations && !inside_trace) {
    inside_trace = true;
    trace_sizes[index] = backtrace(traces[index], trace_depth);
    inside_trace = false;
  }
}

void print_traces(std::int64_t count) {
  for (std::int64_t i = 0; i < std::min<std::int64_t>(count, traced_allocations); ++i) {
    const char line[] = "-- allocation\n";
    if (write(STDERR_FILENO, line, sizeof line - 1) < 0) return;
    backtrace_symbols_fd(traces[i], trace_sizes[i], STDERR_FILENO);
  }
}

void* checked(void* pointer) {
  if (pointer == nullptr) throw std::bad_alloc();
  return pointer;
}

// Counts the allocations made while it is alive, by any thread.
class AllocationWindow {
 public:
  AllocationWindow() {
    allocations = 0;
    counting = true;
  }
  ~AllocationWindow() { counting = false; }
  std::int64_t count() const { return allocations.load(); }
};

}  // namespace

extern "C" {
void* malloc(std::size_t size) {
  note_allocation();
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) {
  note_allocation();
  return __libc_calloc(count, size);
}
void* realloc(void* pointer, std::size_t size) {
  note_allocation();
  return __libc_realloc(pointer, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
  note_allocation();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** result, std::size_t alignment, std::size_t size) {
  note_allocation();
  *result = __libc_memalign(alignment, size);
  return *result == nullptr ? ENOMEM : 0;
}
void free(void* pointer) { __libc_free(pointer); }
}

void* operator new(std::size_t size) { return checked(malloc(size)); }
void* operator new[](std::size_t size) { return checked(malloc(size)); }
void* operator new(std::size_t size, std::align_val_t alignment) {
  return checked(aligned_alloc(static_cast<std::size_t>(alignment), size));
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return checked(aligned_alloc(static_cast<std::size_t>(alignment), size));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return malloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return malloc(size); }
void operator delete(void* pointer) noexcept { free(pointer); }
void operator delete[](void* pointer) noexcept { free(pointer); }
void operator delete(void* pointer, std::size_t) noexcept { free(pointer); }
void operator delete[](void* pointer, std::size_t) noexcept { free(pointer); }
void operator delete(void* pointer, std::align_val_t) noexcept { free(pointer); }
void operator delete[](void* pointer, std::align_val_t) noexcept { free(pointer); }
void operator delete(void* pointer, std::size_t, std::align_val_t) noexcept { free(pointer); }
void operator delete[](void* pointer, std::size_t, std::align_val_t) noexcept { free(pointer); }

using namespace kiln;

namespace {

// `count` images of `shape` ([C, H, W]) with labels 0, 1, ..., classes - 1, 0, ...
data::LabelledImages random_images(std::int64_t count, std::int64_t classes, const Shape& shape = {1, 28, 28}) {
  Generator generator(11);
  data::LabelledImages set;
  set.images = Tensor::uniform({count, shape[0], shape[1], shape[2]}, 0, 1, generator);
  std::vector<std::int32_t> labels(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int32_t>(i % classes);
  set.labels = Tensor::from_vector(labels, {count});
  for (std::int64_t c = 0; c < classes; ++c) set.classes.push_back("class " + std::to_string(c));
  return set;
}

// Allocation counts of the three steps after the first `warmup` steps of the trainer's first epoch, which must have
// warmup + 4 steps at least.
std::vector<std::int64_t> steady_state_allocations(train::Trainer& trainer, std::int64_t warmup) {
  std::vector<std::int64_t> counts;
  counts.reserve(3);
  std::optional<AllocationWindow> window;
  train::TrainHooks hooks;
  hooks.on_step = [&](const train::StepProgress& progress) {
    if (window) {
      counts.push_back(window->count());
      window.reset();
      if (tracing && counts.back() > 0) print_traces(counts.back());
    }
    if (progress.step >= warmup && progress.step < warmup + 3) window.emplace();
  };
  REQUIRE(trainer.fit(hooks) == train::TrainOutcome::completed);
  return counts;
}

// In memory: enough images for a full batch at every counted step (the last, partial batch is not counted).
std::vector<std::int64_t> steady_state_allocations(const train::TrainConfig& config, std::int64_t warmup,
                                                   std::int64_t classes = 10, const Shape& image = {1, 28, 28}) {
  train::Trainer trainer(config, random_images(config.batch_size * (warmup + 5), classes, image));
  return steady_state_allocations(trainer, warmup);
}

void check_no_allocations(const std::vector<std::int64_t>& counts) {
  REQUIRE(counts.size() == 3);
  std::ostringstream text;
  for (const std::int64_t count : counts) text << count << " ";
  INFO("allocations per step: " << text.str());
  for (const std::int64_t count : counts) CHECK(count == 0);
}

train::TrainConfig config_for(const std::string& model, const std::string& optimizer) {
  train::TrainConfig config;
  config.model = model;
  config.optimizer = optimizer;
  config.epochs = 1;
  config.batch_size = 32;
  config.weight_decay = 1e-3;
  config.val_fraction = 0.1;
  config.seed = 3;
  return config;
}

}  // namespace

TEST_CASE("allocations: the counter sees operator new and malloc", "[allocations]") {
  AllocationWindow window;
  auto* value = new int(3);
  void* block = std::malloc(40);
  std::vector<float> values(100);
  CHECK(window.count() == 3);
  std::free(block);
  delete value;
}

TEST_CASE("allocations: a steady-state training step allocates nothing", "[allocations]") {
  for (const auto& [model, optimizer] : {std::pair{"fmnist-small", "adam"}, std::pair{"fmnist-bn", "sgd"}}) {
    INFO(model << " with " << optimizer);
    check_no_allocations(steady_state_allocations(config_for(model, optimizer), 2));
  }
}

TEST_CASE("allocations: a steady-state RoomNet training step allocates nothing", "[allocations]") {
  // The smallest input RoomNet takes, two images a batch.
  train::TrainConfig config = config_for("roomnet", "sgd");
  config.model_options = {{"image_size", "183"}};
  config.batch_size = 2;
  config.val_fraction = 2.0 / 14;  // 12 of the 14 images train: no batch of one, which batch norm refuses
  check_no_allocations(steady_state_allocations(config, 2, 2, {3, 183, 183}));
}

TEST_CASE("allocations: a steady-state VGG step fed by the image-folder reader allocates nothing", "[allocations]") {
  // PNG and JPEG files of 80x60 pixels, resized to 64x64 (width area-averaged, height interpolated), flipped and
  // shifted at random, decoded ahead of the trainer. One decoder thread: each thread's decoding memory grows to the
  // largest file, image and format it has met, and which thread meets which file is up to the scheduler, so only one
  // thread makes the count exact. 64 pixels, where every map from 64x64 to 4x4 has a multiple of 16 pixels: OpenBLAS
  // 0.3.21's AVX-512 small-matrix SGEMM kernel mallocs a packing buffer on every call whose output has 1-8 columns past
  // a multiple of 16 (at 32 pixels, the 2x2 map's convolution), which no reuse in kiln's data layer can avoid.
  test::TemporaryFolder folder("step_allocations");
  test::write_colour_classes(folder / "data", 16, 80, 60);
  train::TrainConfig config = config_for("vgg", "adam");
  config.model_options = {{"depth", "11"}, {"channels", "4"},   {"classifier_width", "16"},
                          {"pool_grid", "1"}, {"image_size", "64"}, {"dropout", "0.5"}};
  config.data = (folder / "data").string();
  config.batch_size = 2;
  config.augment_flip = true;
  config.augment_crop_padding = 2;
  train::Trainer trainer(config, train::load_training_data(config, train::ReaderSettings{1, false}));
  REQUIRE(trainer.training_images() >= 2 * 14);
  check_no_allocations(steady_state_allocations(trainer, 10));
}
