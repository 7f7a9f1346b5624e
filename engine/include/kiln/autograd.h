#pragma once
// Reverse-mode automatic differentiation, recorded as ops run (define-by-run).
//
// Every op whose inputs require gradients attaches a Node to its output. A Node keeps what its backward needs
// (saved inputs, indices, statistics) inside its backward function and the edges to the nodes or leaves of its
// inputs. Tensor::backward() orders the graph, runs each backward once and frees its saved state right after,
// accumulating gradients into the leaves' grad(). Nodes, edge lists and closures come from the pool allocator
// (kiln/pool_allocator.h), so recording a step's graph takes no memory from the system once the pool is warm.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

#include "kiln/pool_allocator.h"
#include "kiln/tensor.h"

namespace kiln {

// Where an input's gradient goes: to the node that produced it, or into a leaf tensor.
struct Edge {
  std::shared_ptr<Node> node;
  std::shared_ptr<TensorImpl> leaf;
  bool active() const { return node != nullptr || leaf != nullptr; }
};

// The gradients a backward function returns, one per op input (undefined where not needed).
using Gradients = PoolVector<Tensor>;

// Which inputs of a node want a gradient: needs[i] is true when input i leads to a parameter.
class GradientNeeds {
 public:
  explicit GradientNeeds(std::span<const Edge> edges) : edges_(edges) {}
  bool operator[](std::size_t i) const { return edges_[i].active(); }
  std::size_t size() const { return edges_.size(); }

 private:
  std::span<const Edge> edges_;
};

// A move-only callable `Gradients(const Tensor& grad_output, const GradientNeeds& needs)` holding what the backward
// saved; like std::function, but its state lives in a pooled block whatever its size.
class BackwardFunction {
 public:
  BackwardFunction() = default;
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, BackwardFunction>>>
  BackwardFunction(F&& function) {  // NOLINT: implicit, so that ops pass lambdas
    using Stored = Holder<std::decay_t<F>>;
    static_assert(alignof(Stored) <= alignof(std::max_align_t), "backward closures need fundamental alignment");
    void* block = detail::pool_allocate(sizeof(Stored));
    callable_ = new (block) Stored(std::forward<F>(function));
    bytes_ = sizeof(Stored);
  }
  BackwardFunction(BackwardFunction&& other) noexcept
      : callable_(std::exchange(other.callable_, nullptr)), bytes_(other.bytes_) {}
  BackwardFunction& operator=(BackwardFunction&& other) noexcept {
    if (this != &other) {
      reset();
      callable_ = std::exchange(other.callable_, nullptr);
      bytes_ = other.bytes_;
    }
    return *this;
  }
  BackwardFunction(const BackwardFunction&) = delete;
  BackwardFunction& operator=(const BackwardFunction&) = delete;
  ~BackwardFunction() { reset(); }

  Gradients operator()(const Tensor& grad_output, const GradientNeeds& needs) const {
    return callable_->call(grad_output, needs);
  }
  explicit operator bool() const { return callable_ != nullptr; }
  // Destroys the closure, releasing what it saved.
  void reset() noexcept {
    if (callable_ == nullptr) return;
    callable_->~Callable();
    detail::pool_release(callable_, bytes_);
    callable_ = nullptr;
  }

 private:
  struct Callable {
    virtual ~Callable() = default;
    virtual Gradients call(const Tensor& grad_output, const GradientNeeds& needs) = 0;
  };
  template <class F>
  struct Holder final : Callable {
    explicit Holder(F&& f) : function(std::move(f)) {}
    explicit Holder(const F& f) : function(f) {}
    Gradients call(const Tensor& grad_output, const GradientNeeds& needs) override {
      return function(grad_output, needs);
    }
    F function;
  };

  Callable* callable_ = nullptr;
  std::size_t bytes_ = 0;
};

struct Node {
  const char* op = "";          // the op's name (a string with static storage), for error messages
  PoolVector<Edge> inputs;      // one per op input
  BackwardFunction backward;    // reset once run, releasing saved tensors
  // Scratch of the backward pass in progress (engine/autograd.cpp): the sum of the gradients that reached this node,
  // and the pass that last ordered it.
  Tensor pending_gradient;
  std::uint64_t ordered_in_pass = 0;
};

// True unless a NoGradGuard is alive on this thread.
bool grad_enabled();

// Inside this scope no graph is recorded (inference, optimiser updates).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True when grad mode is on and any of the inputs requires a gradient.
bool any_requires_grad(std::span<const Tensor> inputs);
inline bool any_requires_grad(std::initializer_list<Tensor> inputs) {
  return any_requires_grad(std::span<const Tensor>(inputs.begin(), inputs.size()));
}

// Attaches a node to `output` when any input requires a gradient and grad mode is on; otherwise does nothing.
// Ops call this after computing their output; `op` must outlive the graph (a string literal).
void record(Tensor& output, const char* op, std::span<const Tensor> inputs, BackwardFunction backward);
inline void record(Tensor& output, const char* op, std::initializer_list<Tensor> inputs, BackwardFunction backward) {
  record(output, op, std::span<const Tensor>(inputs.begin(), inputs.size()), std::move(backward));
}

}  // namespace kiln
