// 2-D convolution through cuDNN's legacy convolution API (deprecated in cuDNN 9 in favour of the graph API, still
// shipped and far shorter for fixed NCHW float32 convolutions). Per direction: the descriptors, the algorithm from a
// per-shape cache (filled by cudnnFind*AlgorithmEx, which times the candidates on the real buffers), then the call.
#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <vector>

#include "base/cuda/context.h"
#include "base/cuda/cudnn_descriptors.h"
#include "kernels/conv2d.h"
#include "kiln/backend.h"

namespace kiln::kernels::cudnn {
namespace {

using cpu::Conv2dGeometry;

enum class Direction { forward, backward_data, backward_filter };

struct Algorithm {
  int algorithm = 0;
  std::size_t workspace = 0;
  cudnnMathType_t math = CUDNN_FMA_MATH;
};

// One cached choice per device, direction, shape and setting.
struct Key {
  int device_index;
  Direction direction;
  std::array<std::int64_t, 11> shape;
  bool tf32, deterministic;
  auto operator<=>(const Key&) const = default;
};

// The descriptors of one convolution: x [batch, C, H, W], weight [K, C, R, S], y [batch, K, OH, OW].
struct Problem {
  kiln::cuda::TensorDescriptor x, y;
  kiln::cuda::FilterDescriptor weight;
  kiln::cuda::ConvolutionDescriptor convolution;
  Key key;

  Problem(int device_index, Direction direction, std::int64_t batch, std::int64_t out_channels, const Conv2dGeometry& g)
      : key{device_index,
            direction,
            {batch, out_channels, g.channels, g.height, g.width, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w,
             g.pad_h, g.pad_w},
            allow_tf32(),
            deterministic()} {
    kiln::cuda::set_nchw(x, batch, g.channels, g.height, g.width);
    kiln::cuda::set_nchw(y, batch, out_channels, g.out_height(), g.out_width());
    KILN_CUDNN_CHECK(cudnnSetFilter4dDescriptor(weight.get(), CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                                static_cast<int>(out_channels), static_cast<int>(g.channels),
                                                static_cast<int>(g.kernel_h), static_cast<int>(g.kernel_w)));
    KILN_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
        convolution.get(), static_cast<int>(g.pad_h), static_cast<int>(g.pad_w), static_cast<int>(g.stride_h),
        static_cast<int>(g.stride_w), 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    // FMA math rules out TF32 tensor-core kernels; with TF32 allowed, the chosen result's math type is set before the
    // call (convolve()).
    KILN_CUDNN_CHECK(cudnnSetConvolutionMathType(convolution.get(), key.tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
  }
};

constexpr float one = 1.0f, zero = 0.0f;

bool uses_tensor_ops(cudnnMathType_t math) {
  return math == CUDNN_TENSOR_OP_MATH || math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
}

// Each direction's cuDNN calls, on two inputs and one output: forward (x, weight -> y), backward data
// (weight, dy -> dx), backward filter (x, dy -> dweight).
struct Forward {
  using Perf = cudnnConvolutionFwdAlgoPerf_t;
  using Algo = cudnnConvolutionFwdAlgo_t;
  static constexpr int candidates = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
  static constexpr Direction direction = Direction::forward;
  static constexpr const char* op = "conv2d forward (cuDNN)";
  static cudnnStatus_t workspace_size(cudnnHandle_t handle, const Problem& p, Algo algo, std::size_t* bytes) {
    return cudnnGetConvolutionForwardWorkspaceSize(handle, p.x.get(), p.weight.get(), p.convolution.get(), p.y.get(),
                                                   algo, bytes);
  }
  static void find(cudnnHandle_t handle, const Problem& p, const float* x, const float* weight, float* y, int* returned,
                   Perf* results, void* workspace, std::size_t bytes) {
    KILN_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(handle, p.x.get(), x, p.weight.get(), weight,
                                                            p.convolution.get(), p.y.get(), y, candidates, returned,
                                                            results, workspace, bytes));
  }
  static void run(cudnnHandle_t handle, const Problem& p, Algo algo, void* workspace, std::size_t bytes, const float* x,
                  const float* weight, float* y) {
    KILN_CUDNN_CHECK(cudnnConvolutionForward(handle, &one, p.x.get(), x, p.weight.get(), weight, p.convolution.get(),
                                             algo, workspace, bytes, &zero, p.y.get(), y));
  }
};

struct BackwardData {
  using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
  using Algo = cudnnConvolutionBwdDataAlgo_t;
  static constexpr int candidates = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
  static constexpr Direction direction = Direction::backward_data;
  static constexpr const char* op = "conv2d backward data (cuDNN)";
  static cudnnStatus_t workspace_size(cudnnHandle_t handle, const Problem& p, Algo algo, std::size_t* bytes) {
    return cudnnGetConvolutionBackwardDataWorkspaceSize(handle, p.weight.get(), p.y.get(), p.convolution.get(),
                                                        p.x.get(), algo, bytes);
  }
  static void find(cudnnHandle_t handle, const Problem& p, const float* weight, const float* dy, float* dx,
                   int* returned, Perf* results, void* workspace, std::size_t bytes) {
    KILN_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(handle, p.weight.get(), weight, p.y.get(), dy,
                                                                 p.convolution.get(), p.x.get(), dx, candidates,
                                                                 returned, results, workspace, bytes));
  }
  static void run(cudnnHandle_t handle, const Problem& p, Algo algo, void* workspace, std::size_t bytes,
                  const float* weight, const float* dy, float* dx) {
    KILN_CUDNN_CHECK(cudnnConvolutionBackwardData(handle, &one, p.weight.get(), weight, p.y.get(), dy,
                                                  p.convolution.get(), algo, workspace, bytes, &zero, p.x.get(), dx));
  }
};

struct BackwardFilter {
  using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
  using Algo = cudnnConvolutionBwdFilterAlgo_t;
  static constexpr int candidates = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  static constexpr Direction direction = Direction::backward_filter;
  static constexpr const char* op = "conv2d backward filter (cuDNN)";
  static cudnnStatus_t workspace_size(cudnnHandle_t handle, const Problem& p, Algo algo, std::size_t* bytes) {
    return cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, p.x.get(), p.y.get(), p.convolution.get(),
                                                          p.weight.get(), algo, bytes);
  }
  static void find(cudnnHandle_t handle, const Problem& p, const float* x, const float* dy, float* dweight,
                   int* returned, Perf* results, void* workspace, std::size_t bytes) {
    KILN_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(handle, p.x.get(), x, p.y.get(), dy,
                                                                   p.convolution.get(), p.weight.get(), dweight,
                                                                   candidates, returned, results, workspace, bytes));
  }
  static void run(cudnnHandle_t handle, const Problem& p, Algo algo, void* workspace, std::size_t bytes, const float* x,
                  const float* dy, float* dweight) {
    KILN_CUDNN_CHECK(cudnnConvolutionBackwardFilter(handle, &one, p.x.get(), x, p.y.get(), dy, p.convolution.get(),
                                                    algo, workspace, bytes, &zero, p.weight.get(), dweight));
  }
};

// cuDNN's search for one direction: the fastest usable result (cuDNN sorts them by time). The search gets the largest
// workspace any candidate asks for within the limit, so that the limit, not the search, decides what is too large.
template <class Calls>
Algorithm search(kiln::cuda::Context& context, const Problem& p, const float* first, const float* second, float* out) {
  const cudnnHandle_t handle = context.cudnn();
  std::size_t bytes = 0;
  for (int candidate = 0; candidate < Calls::candidates; ++candidate) {
    std::size_t needed = 0;
    if (Calls::workspace_size(handle, p, static_cast<typename Calls::Algo>(candidate), &needed) ==
            CUDNN_STATUS_SUCCESS &&
        needed <= kiln::cuda::Context::workspace_limit) {
      bytes = std::max(bytes, needed);
    }
  }
  void* workspace = context.workspace(bytes, Calls::op);
  std::vector<typename Calls::Perf> results(static_cast<std::size_t>(Calls::candidates));
  int returned = 0;
  Calls::find(handle, p, first, second, out, &returned, results.data(), workspace, bytes);
  for (int i = 0; i < returned; ++i) {
    const typename Calls::Perf& result = results[static_cast<std::size_t>(i)];
    if (result.status != CUDNN_STATUS_SUCCESS || result.memory > bytes) continue;
    if (p.key.deterministic && result.determinism != CUDNN_DETERMINISTIC) continue;
    if (!p.key.tf32 && uses_tensor_ops(result.mathType)) continue;
    // Without TF32 the call keeps the search's FMA math, whatever type cuDNN reports for the result.
    return {static_cast<int>(result.algo), result.memory, p.key.tf32 ? result.mathType : CUDNN_FMA_MATH};
  }
  fail(Calls::op, ": cuDNN has no usable algorithm for this shape (workspace up to ", bytes, " bytes",
       p.key.deterministic ? ", deterministic only" : "", p.key.tf32 ? "" : ", TF32 off", ")");
}

// The algorithm cached for the problem (searching on a miss), run with its math type and workspace.
template <class Calls>
void convolve(int device_index, std::int64_t batch, std::int64_t out_channels, const Conv2dGeometry& geometry,
              const float* first, const float* second, float* out) {
  static std::mutex mutex;
  static auto* cache = new std::map<Key, Algorithm>();  // never destroyed, as the contexts
  kiln::cuda::Context& context = kiln::cuda::Context::get(device_index);
  const Problem p(device_index, Calls::direction, batch, out_channels, geometry);
  std::unique_lock lock(mutex);
  auto found = cache->find(p.key);
  lock.unlock();
  if (found == cache->end()) {
    const Algorithm chosen = search<Calls>(context, p, first, second, out);
    lock.lock();
    found = cache->emplace(p.key, chosen).first;
    lock.unlock();
  }
  const Algorithm algorithm = found->second;
  KILN_CUDNN_CHECK(cudnnSetConvolutionMathType(p.convolution.get(), algorithm.math));
  Calls::run(context.cudnn(), p, static_cast<typename Calls::Algo>(algorithm.algorithm),
             context.workspace(algorithm.workspace, Calls::op), algorithm.workspace, first, second, out);
}

}  // namespace

void conv2d_forward(int device_index, const float* x, const float* weight, const float* bias, float* y,
                    std::int64_t batch, std::int64_t out_channels, const Conv2dGeometry& geometry) {
  convolve<Forward>(device_index, batch, out_channels, geometry, x, weight, y);
  if (bias == nullptr) return;
  kiln::cuda::TensorDescriptor bias_descriptor, y_descriptor;
  kiln::cuda::set_nchw(bias_descriptor, 1, out_channels, 1, 1);
  kiln::cuda::set_nchw(y_descriptor, batch, out_channels, geometry.out_height(), geometry.out_width());
  KILN_CUDNN_CHECK(cudnnAddTensor(kiln::cuda::Context::get(device_index).cudnn(), &one, bias_descriptor.get(), bias,
                                  &one, y_descriptor.get(), y));
}

void conv2d_backward_data(int device_index, const float* dy, const float* weight, float* dx, std::int64_t batch,
                          std::int64_t out_channels, const Conv2dGeometry& geometry) {
  convolve<BackwardData>(device_index, batch, out_channels, geometry, weight, dy, dx);
}

void conv2d_backward_weight(int device_index, const float* x, const float* dy, float* dweight, std::int64_t batch,
                            std::int64_t out_channels, const Conv2dGeometry& geometry) {
  convolve<BackwardFilter>(device_index, batch, out_channels, geometry, x, dy, dweight);
}

}  // namespace kiln::kernels::cudnn
