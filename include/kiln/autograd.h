#pragma once
// Reverse-mode automatic differentiation, recorded as ops run (define-by-run).
//
// Every op whose inputs require gradients attaches a Node to its output. A Node keeps what its backward needs
// (saved inputs, indices, statistics) inside its backward function and the edges to the nodes or leaves of its
// inputs. Tensor::backward() orders the graph, runs each backward once and frees its saved state right after,
// accumulating gradients into the leaves' grad().
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kiln/tensor.h"

namespace kiln {

// Where an input's gradient goes: to the node that produced it, or into a leaf tensor.
struct Edge {
  std::shared_ptr<Node> node;
  std::shared_ptr<TensorImpl> leaf;
  bool active() const { return node != nullptr || leaf != nullptr; }
};

// backward(grad_output, needs) returns one gradient per input; needs[i] says whether input i wants one (an undefined
// Tensor is returned for the others).
using BackwardFunction = std::function<std::vector<Tensor>(const Tensor& grad_output, const std::vector<bool>& needs)>;

struct Node {
  std::string op;            // the op's name, for error messages
  std::vector<Edge> inputs;  // one per op input
  BackwardFunction backward;  // cleared once run, releasing saved tensors
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
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Attaches a node to `output` when any input requires a gradient and grad mode is on; otherwise does nothing.
// Ops call this after computing their output.
void record(Tensor& output, std::string op, const std::vector<Tensor>& inputs, BackwardFunction backward);

}  // namespace kiln
