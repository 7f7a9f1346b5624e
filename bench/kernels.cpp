// Per-op kernel benchmark: forward and forward+backward times of representative shapes on the CPU (OpenBLAS GEMM
// under kiln's threads), and on a GPU with kiln's native kernels and with cuDNN/cuBLAS, all in one run. Prints a
// table, then the same as JSON (also written to --json FILE). docs/cuda.md ("Kernel benchmarks") explains the columns.
//   kiln_bench_kernels [--quick] [--ops linear,conv2d,batch_norm,max_pool2d,relu,cross_entropy] [--json FILE]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kiln/autograd.h"
#include "kiln/backend.h"
#include "kiln/ops.h"
#include "kiln/tensor.h"
#include "kiln/threads.h"

namespace {

using kiln::Device;
using kiln::DType;
using kiln::Shape;
using kiln::Tensor;

#if defined(KILN_CUDA_EMULATED)
constexpr bool cuda_is_emulated = true;
#else
constexpr bool cuda_is_emulated = false;
#endif

const std::vector<std::string> known_ops{"linear",     "conv2d", "conv_transpose2d", "batch_norm",
                                        "max_pool2d", "relu",   "cross_entropy"};
constexpr const char* usage =
    "usage: kiln_bench_kernels [--quick] [--ops linear,conv2d,conv_transpose2d,batch_norm,max_pool2d,relu,"
    "cross_entropy] [--json FILE]";

struct Options {
  bool quick = false;
  std::vector<std::string> ops = known_ops;
  std::string json_path;
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << usage << "\n";
      std::exit(0);
    }
    if (flag == "--quick") {
      options.quick = true;
      continue;
    }
    if (flag != "--ops" && flag != "--json") kiln::fail("unknown flag ", flag, " (", usage, ")");
    if (i + 1 >= argc) kiln::fail(flag, ": expected a value (", usage, ")");
    const std::string value = argv[++i];
    if (flag == "--json") {
      options.json_path = value;
      continue;
    }
    options.ops = split_list(value);
    KILN_CHECK(!options.ops.empty(), "--ops: expected a comma-separated list of ops, got '", value, "'");
    for (const std::string& op : options.ops) {
      KILN_CHECK(std::find(known_ops.begin(), known_ops.end(), op) != known_ops.end(), "--ops: unknown op '", op,
                 "' (known: linear, conv2d, conv_transpose2d, batch_norm, max_pool2d, relu, cross_entropy)");
    }
  }
  return options;
}

// The CUDA library that can run an op family instead of kiln's native kernels.
enum class Library { none, cudnn_conv, cudnn_bn, cublas };

// One op at one shape. setup() makes its inputs on a device and returns the call that runs the op on them.
struct Case {
  std::string op;     // the kiln function, as --ops names it
  std::string shape;  // for the table
  double forward_flops = 0;   // 0 for memory-bound ops: no GFLOP/s is printed for them
  double backward_flops = 0;  // the backward alone
  Library library = Library::none;
  std::function<std::function<Tensor()>(Device)> setup;
};

Tensor random_tensor(const Shape& shape, Device device, bool requires_grad, kiln::Generator& generator) {
  Tensor tensor = Tensor::randn(shape, generator, DType::f32, device);
  tensor.set_requires_grad(requires_grad);
  return tensor;
}

Case linear_case(std::int64_t batch, std::int64_t in, std::int64_t out, const std::string& note) {
  const double flops = 2.0 * static_cast<double>(batch) * static_cast<double>(in) * static_cast<double>(out);
  std::ostringstream shape;
  shape << batch << "x" << in << " -> " << out << note;
  return {"linear", shape.str(), flops, 2 * flops, Library::cublas, [=](Device device) {
            kiln::Generator generator(1);
            const Tensor x = random_tensor({batch, in}, device, true, generator);
            const Tensor weight = random_tensor({out, in}, device, true, generator);
            const Tensor bias = random_tensor({out}, device, true, generator);
            return std::function<Tensor()>([=] { return kiln::linear(x, weight, bias); });
          }};
}

struct ConvShape {
  std::int64_t batch, in_channels, out_channels, size, kernel, stride, padding;
  // false for a network's first layer, whose input (the images) needs no gradient: no backward-data pass.
  bool input_grad = true;
};

Case conv_case(const ConvShape& c, const std::string& note) {
  const std::int64_t out_size = (c.size + 2 * c.padding - c.kernel) / c.stride + 1;
  const double flops = 2.0 * static_cast<double>(c.batch * c.out_channels * out_size * out_size) *
                       static_cast<double>(c.in_channels * c.kernel * c.kernel);
  std::ostringstream shape;
  shape << "N" << c.batch << " " << c.in_channels << "->" << c.out_channels << " " << c.size << "x" << c.size << " k"
        << c.kernel << " s" << c.stride << " p" << c.padding << note;
  return {"conv2d", shape.str(), flops, (c.input_grad ? 2 : 1) * flops, Library::cudnn_conv, [=](Device device) {
            kiln::Generator generator(2);
            const Tensor x = random_tensor({c.batch, c.in_channels, c.size, c.size}, device, c.input_grad, generator);
            const Tensor weight =
                random_tensor({c.out_channels, c.in_channels, c.kernel, c.kernel}, device, true, generator);
            const Tensor bias = random_tensor({c.out_channels}, device, true, generator);
            const auto options = kiln::Conv2dOptions::square(c.stride, c.padding);
            return std::function<Tensor()>([=] { return kiln::conv2d(x, weight, bias, options); });
          }};
}

// A bias-free transposed convolution as FCN's upsampling layers use (the kernel twice the stride, no padding).
Case conv_transpose_case(std::int64_t batch, std::int64_t channels, std::int64_t size, std::int64_t kernel,
                         std::int64_t stride, const std::string& note) {
  const std::int64_t out_size = (size - 1) * stride + kernel;
  // Each input pixel scatters channels x kernel^2 products into every output channel.
  const double flops = 2.0 * static_cast<double>(batch * channels * size * size) *
                       static_cast<double>(channels * kernel * kernel);
  std::ostringstream shape;
  shape << "N" << batch << " " << channels << "->" << channels << " " << size << "x" << size << "->" << out_size
        << " k" << kernel << " s" << stride << note;
  return {"conv_transpose2d", shape.str(), flops, 2 * flops, Library::none, [=](Device device) {
            kiln::Generator generator(7);
            const Tensor x = random_tensor({batch, channels, size, size}, device, true, generator);
            const Tensor weight = random_tensor({channels, channels, kernel, kernel}, device, true, generator);
            const auto options = kiln::ConvTranspose2dOptions::square(stride, 0);
            return std::function<Tensor()>([=] { return kiln::conv_transpose2d(x, weight, Tensor(), options); });
          }};
}

Case batch_norm_case(const Shape& shape) {
  return {"batch_norm", kiln::shape_str(shape) + " train", 0, 0, Library::cudnn_bn, [=](Device device) {
            kiln::Generator generator(3);
            const Tensor x = random_tensor(shape, device, true, generator);
            const Tensor gamma = random_tensor({shape[1]}, device, true, generator);
            const Tensor beta = random_tensor({shape[1]}, device, true, generator);
            const Tensor running_mean = Tensor::zeros({shape[1]}, DType::f32, device);
            const Tensor running_var = Tensor::ones({shape[1]}, DType::f32, device);
            return std::function<Tensor()>([=] {
              return kiln::batch_norm(x, gamma, beta, running_mean, running_var, kiln::BatchNormOptions{});
            });
          }};
}

Case max_pool_case(const Shape& shape) {
  return {"max_pool2d", kiln::shape_str(shape) + " 2x2 s2", 0, 0, Library::none, [=](Device device) {
            kiln::Generator generator(4);
            const Tensor x = random_tensor(shape, device, true, generator);
            return std::function<Tensor()>([=] { return kiln::max_pool2d(x, kiln::Pool2dOptions::square(2, 2)); });
          }};
}

Case relu_case(const Shape& shape) {
  return {"relu", kiln::shape_str(shape), 0, 0, Library::none, [=](Device device) {
            kiln::Generator generator(5);
            const Tensor x = random_tensor(shape, device, true, generator);
            return std::function<Tensor()>([=] { return kiln::relu(x); });
          }};
}

Case cross_entropy_case(std::int64_t batch, std::int64_t classes) {
  std::ostringstream shape;
  shape << "[" << batch << ", " << classes << "] logits";
  return {"cross_entropy", shape.str(), 0, 0, Library::none, [=](Device device) {
            kiln::Generator generator(6);
            const Tensor logits = random_tensor({batch, classes}, device, true, generator);
            std::vector<std::int32_t> labels(static_cast<std::size_t>(batch));
            for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int32_t>(i % classes);
            const Tensor targets = Tensor::from_vector(labels, {batch}, device);
            return std::function<Tensor()>([=] { return kiln::cross_entropy(logits, targets); });
          }};
}

// The representative shapes: GEMMs of a square product and of VGG's first classifier layer; ResNet-style 3x3,
// stride-2 and 1x1 convolutions at 56x56; fmnist-small's two convolutions at its training batch (256); and the
// memory-bound ops at the 3x3 convolution's activation size. --quick shrinks every one for a smoke test.
std::vector<Case> make_cases(bool quick) {
  if (quick) {
    const Shape activation{4, 16, 28, 28};
    return {linear_case(256, 256, 256, ""),
            linear_case(16, 1024, 1024, " (VGG fc, small)"),
            conv_case({4, 32, 32, 28, 3, 1, 1}, ""),
            conv_case({4, 32, 64, 28, 3, 2, 1}, ""),
            conv_case({4, 32, 64, 28, 1, 1, 0}, ""),
            conv_case({32, 1, 32, 28, 3, 1, 0, false}, " (fmnist conv1)"),
            conv_case({32, 32, 32, 13, 3, 1, 0}, " (fmnist conv2)"),
            conv_transpose_case(2, 11, 9, 4, 2, " (FCN upscore2)"),
            batch_norm_case(activation),
            max_pool_case(activation),
            relu_case(activation),
            cross_entropy_case(64, 100)};
  }
  const Shape activation{32, 64, 56, 56};
  return {linear_case(1024, 1024, 1024, ""),
          linear_case(64, 4096, 4096, " (VGG fc)"),
          conv_case({32, 64, 64, 56, 3, 1, 1}, ""),
          conv_case({32, 64, 128, 56, 3, 2, 1}, ""),
          conv_case({32, 64, 256, 56, 1, 1, 0}, ""),
          conv_case({256, 1, 32, 28, 3, 1, 0, false}, " (fmnist conv1)"),
          conv_case({256, 32, 32, 13, 3, 1, 0}, " (fmnist conv2)"),
          // FCN-8s at 21 classes on a 500x500 image: the 2x upsamplings of fc7's and the fused pool4 map, and the
          // 8x one to the input's resolution; then the narrow scenes model's 8x one at batch 8.
          conv_transpose_case(1, 21, 16, 4, 2, " (FCN-8s upscore2)"),
          conv_transpose_case(1, 21, 34, 4, 2, " (FCN-8s upscore_pool4)"),
          conv_transpose_case(1, 21, 70, 16, 8, " (FCN-8s upscore8)"),
          conv_transpose_case(8, 11, 33, 16, 8, " (scenes upscore8)"),
          batch_norm_case(activation),
          max_pool_case(activation),
          relu_case(activation),
          cross_entropy_case(1024, 1000)};
}

// Where a case runs: the CPU, or cuda:0 with the backend settings that pick native kernels or a library.
struct Implementation {
  enum class Kind { cpu, cuda_native, cuda_library };
  Kind kind;
  std::string name;
  Device device;
  kiln::BackendSettings settings;  // default: native everywhere, TF32 off
};

std::optional<Implementation> library_implementation(Library library) {
  kiln::BackendSettings settings;
  switch (library) {
    case Library::none:
      return std::nullopt;
    case Library::cudnn_conv:
      settings.conv = kiln::ConvBackend::cudnn;
      return Implementation{Implementation::Kind::cuda_library, "cuda cudnn", Device::cuda(0), settings};
    case Library::cudnn_bn:
      settings.bn = kiln::BnBackend::cudnn;
      return Implementation{Implementation::Kind::cuda_library, "cuda cudnn", Device::cuda(0), settings};
    case Library::cublas:
      settings.gemm = kiln::GemmBackend::cublas;
      return Implementation{Implementation::Kind::cuda_library, "cuda cublas", Device::cuda(0), settings};
  }
  return std::nullopt;
}

struct Timing {
  double ms = 0;  // median time of one call
  int calls = 0;  // calls per sample (short ops run several times between two synchronisations)
};

struct Repetitions {
  int samples;       // timed samples, of which the median is kept
  double sample_ms;  // the least time one sample should take (short calls are repeated within it)
};

// Times `run`, with `wait` closing each sample so that queued GPU work is counted. Two warm-up calls first: the
// first pays the one-off costs (cuDNN's algorithm search, the caching allocator's first allocations, page faults);
// the second is timed to choose how many calls make a sample long enough that the synchronisation does not count.
Timing measure(const std::function<void()>& run, const std::function<void()>& wait, const Repetitions& repetitions) {
  using Clock = std::chrono::steady_clock;
  run();
  wait();
  const auto start = Clock::now();
  run();
  wait();
  const double single_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  const int calls = static_cast<int>(std::clamp(std::ceil(repetitions.sample_ms / std::max(single_ms, 1e-3)), 1.0,
                                                1000.0));
  std::vector<double> per_call_ms;
  for (int sample = 0; sample < repetitions.samples; ++sample) {
    const auto sample_start = Clock::now();
    for (int call = 0; call < calls; ++call) run();
    wait();
    per_call_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sample_start).count() / calls);
  }
  std::sort(per_call_ms.begin(), per_call_ms.end());
  return {per_call_ms[per_call_ms.size() / 2], calls};
}

// Returns once every kernel queued on `device` has finished. kiln has no public synchronise call; a copy of one
// element to the host does it: cudaMemcpy on the legacy default stream waits for all earlier work on the device,
// the library calls on the context's (blocking) stream included.
std::function<void()> waiter(Device device) {
  if (device.is_cpu()) return [] {};
  const Tensor probe = Tensor::zeros({1}, DType::f32, device);
  return [probe] { (void)probe.cpu(); };
}

// The forward alone (no graph recorded), or the forward recorded and its backward run on a fixed upstream gradient.
// The backward is called on the op's node directly, not through Tensor::backward(), so that the time is the op's
// own backward: no loss reduction in front of it and no copy of the gradients into the leaves.
std::function<void()> pass_call(const std::function<Tensor()>& op, bool backward, Device device) {
  if (!backward) {
    return [op] {
      kiln::NoGradGuard no_grad;
      (void)op();
    };
  }
  Tensor upstream;
  {
    kiln::NoGradGuard no_grad;
    kiln::Generator generator(7);
    upstream = Tensor::randn(op().shape(), generator, DType::f32, device);
  }
  return [op, upstream] {
    const Tensor y = op();
    const std::shared_ptr<kiln::Node> node = y.grad_fn();
    KILN_CHECK(node != nullptr, "kiln_bench_kernels: the op recorded no backward");
    (void)node->backward(upstream, kiln::GradientNeeds(node->inputs));
  };
}

std::string today() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &utc);
  return text;
}

int cpu_threads() {  // as kernels/parallel.cpp chooses them
  if (const char* text = std::getenv("KILN_NUM_THREADS")) {
    if (const int value = std::atoi(text); value > 0) return value;
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void print_row(const std::string& op, const std::string& shape, const std::string& pass, const std::string& impl,
               const nlohmann::json& row) {
  const auto number = [&](const char* key, const char* format) {
    if (!row.contains(key)) return std::string();
    char text[32];
    std::snprintf(text, sizeof text, format, row[key].get<double>());
    return std::string(text);
  };
  char line[256];
  std::snprintf(line, sizeof line, "%-14s %-42s %-8s %-12s %10s %10s %11s %15s", op.c_str(), shape.c_str(),
                pass.c_str(), impl.c_str(), number("ms", "%.3f").c_str(), number("gflops", "%.1f").c_str(),
                number("vs_roofline", "%.2f").c_str(), number("native_vs_library", "%.2f").c_str());
  std::string text = line;
  text.erase(text.find_last_not_of(' ') + 1);  // the columns a row leaves empty
  std::printf("%s\n", text.c_str());
  std::fflush(stdout);  // rows appear as they are measured, also when piped into a log
}

}  // namespace

int main(int argc, char** argv) try {
  const Options options = parse(argc, argv);
  // Opened now so that a path that cannot be written fails before the minutes of timing, not after.
  std::ofstream json_file;
  if (!options.json_path.empty()) {
    json_file.open(options.json_path);
    KILN_CHECK(json_file.good(), "--json: cannot write ", options.json_path);
  }
  const Repetitions repetitions = options.quick ? Repetitions{3, 5.0} : Repetitions{7, 50.0};

  // Which CUDA implementations run: none without a GPU, none over the SIMT emulator (its speed says nothing about
  // a GPU's), the native kernels, and the libraries when this build has them.
  std::vector<Implementation> cuda_implementations;
  bool libraries = false;
  std::string cuda_note;
  if (cuda_is_emulated) {
    cuda_note = "CUDA not timed: this build runs the CUDA kernels on the SIMT emulator (a CPU), whose speed means "
                "nothing; timing the CPU only";
  } else if (kiln::cuda_device_count() == 0) {
    cuda_note = "no GPU, timing the CPU only (" + kiln::cuda_status_line() + ")";
  } else {
    cuda_implementations.push_back({Implementation::Kind::cuda_native, "cuda native", Device::cuda(0), {}});
    libraries = kiln::libraries_unavailable().empty();
    cuda_note = kiln::cuda_status_line() +
                (libraries ? "; timing native kernels and cuDNN/cuBLAS (TF32 off)"
                           : "; timing native kernels only: " + std::string(kiln::libraries_unavailable()));
  }
  std::printf("%s\n", cuda_note.c_str());

  // The CPU roofline: the largest sgemm here, through kiln's CPU linear (OpenBLAS under kiln's threads).
  const std::int64_t roofline_size = options.quick ? 512 : 2048;
  const double roofline_flops = 2.0 * std::pow(static_cast<double>(roofline_size), 3);
  Timing roofline_timing;
  {
    kiln::Generator generator(8);
    const Tensor a = Tensor::randn({roofline_size, roofline_size}, generator);
    const Tensor b = Tensor::randn({roofline_size, roofline_size}, generator);
    roofline_timing = measure(
        [&] {
          kiln::NoGradGuard no_grad;
          (void)kiln::linear(a, b, Tensor());
        },
        [] {}, repetitions);
  }
  const double roofline_gflops = roofline_flops / roofline_timing.ms * 1e-6;
  std::printf("%s; OpenBLAS roofline %.1f GFLOP/s (sgemm %lldx%lldx%lld through linear, %.2f ms)\n\n",
              kiln::cpu_status_line().c_str(), roofline_gflops, static_cast<long long>(roofline_size),
              static_cast<long long>(roofline_size), static_cast<long long>(roofline_size), roofline_timing.ms);

  std::printf("%-14s %-42s %-8s %-12s %10s %10s %11s %15s\n", "op", "shape", "pass", "impl", "ms", "GFLOP/s",
              "x roofline", "native/library");
  nlohmann::json results = nlohmann::json::array();
  for (const Case& benchmark : make_cases(options.quick)) {
    if (std::find(options.ops.begin(), options.ops.end(), benchmark.op) == options.ops.end()) continue;
    std::vector<Implementation> implementations{{Implementation::Kind::cpu, "cpu", Device::cpu(), {}}};
    implementations.insert(implementations.end(), cuda_implementations.begin(), cuda_implementations.end());
    if (const auto library = library_implementation(benchmark.library); library && libraries) {
      implementations.push_back(*library);
    }
    for (const bool backward : {false, true}) {
      const std::string pass = backward ? "fwd+bwd" : "fwd";
      const double flops = benchmark.forward_flops + (backward ? benchmark.backward_flops : 0);
      std::optional<double> native_ms;
      for (const Implementation& implementation : implementations) {
        kiln::set_backend_settings(implementation.settings);
        const std::function<Tensor()> op = benchmark.setup(implementation.device);
        const Timing timing = measure(pass_call(op, backward, implementation.device), waiter(implementation.device),
                                      repetitions);
        nlohmann::json row = {{"op", benchmark.op},
                              {"shape", benchmark.shape},
                              {"pass", pass},
                              {"impl", implementation.name},
                              {"device", implementation.device.str()},
                              {"ms", timing.ms},
                              {"calls_per_sample", timing.calls}};
        if (flops > 0) {
          row["gflops"] = flops / timing.ms * 1e-6;
          if (implementation.device.is_cpu()) row["vs_roofline"] = row["gflops"].get<double>() / roofline_gflops;
        }
        if (implementation.kind == Implementation::Kind::cuda_native) native_ms = timing.ms;
        // The native kernels' speed as a fraction of the library's on the same op (above 1: native is faster).
        if (implementation.kind == Implementation::Kind::cuda_library && native_ms) {
          row["native_vs_library"] = timing.ms / *native_ms;
        }
        print_row(benchmark.op, benchmark.shape, pass, implementation.name, row);
        results.push_back(row);
      }
    }
  }
  kiln::set_backend_settings({});

  const nlohmann::json report = {
      {"benchmark", "kernels"},
      {"date", today()},
      {"quick", options.quick},
      {"cuda", kiln::cuda_status_line()},
      {"cuda_timed", !cuda_implementations.empty()},
      {"libraries_timed", libraries},
      {"allow_tf32", kiln::BackendSettings{}.allow_tf32},  // the default: no implementation here turns it on
      {"cpu_threads", cpu_threads()},
      {"cpu", kiln::cpu_status_line()},
      {"samples", repetitions.samples},
      {"roofline", {{"sgemm", roofline_size}, {"ms", roofline_timing.ms}, {"gflops", roofline_gflops}}},
      {"results", results}};
  std::printf("\n");
  std::cout << report.dump() << "\n";
  if (json_file.is_open()) {
    json_file << report.dump(2) << "\n";
    json_file.close();
    KILN_CHECK(json_file.good(), "--json: cannot write ", options.json_path);
  }
  return 0;
} catch (const std::exception& error) {
  std::cerr << "kiln_bench_kernels: " << error.what() << "\n";
  return 1;
}
