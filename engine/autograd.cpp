#include "kiln/autograd.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include "kiln/ops/elementwise.h"

namespace kiln {
namespace {
thread_local bool grad_mode = true;
thread_local bool in_backward = false;
}  // namespace

bool grad_enabled() { return grad_mode; }

NoGradGuard::NoGradGuard() : previous_(grad_mode) { grad_mode = false; }
NoGradGuard::~NoGradGuard() { grad_mode = previous_; }

bool any_requires_grad(std::span<const Tensor> inputs) {
  if (!grad_mode) return false;
  for (const Tensor& input : inputs) {
    if (input.defined() && input.requires_grad()) return true;
  }
  return false;
}

void record(Tensor& output, const char* op, std::span<const Tensor> inputs, BackwardFunction backward) {
  if (!any_requires_grad(inputs)) return;
  auto node = make_pooled<Node>();
  node->op = op;
  node->inputs.reserve(inputs.size());
  for (const Tensor& input : inputs) {
    Edge edge;
    if (input.defined() && input.requires_grad()) {
      if (input.is_leaf()) edge.leaf = input.impl();
      else edge.node = input.grad_fn();
    }
    node->inputs.push_back(std::move(edge));
  }
  node->backward = std::move(backward);
  output.impl()->grad_fn = std::move(node);
  output.impl()->requires_grad = true;
}

namespace {

// The buffers of one backward pass, kept per thread so that their capacity carries over to the next step.
struct PassBuffers {
  std::vector<Node*> order;
  std::vector<std::pair<Node*, std::size_t>> stack;
};

// Fills `order` with the nodes reachable from `root`, each before every node that produces one of its inputs
// (consumers first, so that a node's gradient is complete when it runs). `pass` marks the nodes already placed.
void topological_order(Node* root, std::uint64_t pass, PassBuffers& buffers) {
  buffers.order.clear();
  buffers.stack.clear();
  buffers.stack.emplace_back(root, 0);
  root->ordered_in_pass = pass;
  while (!buffers.stack.empty()) {
    auto& [node, next_input] = buffers.stack.back();
    if (next_input < node->inputs.size()) {
      Node* child = node->inputs[next_input++].node.get();
      if (child != nullptr && child->ordered_in_pass != pass) {
        child->ordered_in_pass = pass;
        buffers.stack.emplace_back(child, 0);
      }
    } else {
      buffers.order.push_back(node);
      buffers.stack.pop_back();
    }
  }
  std::reverse(buffers.order.begin(), buffers.order.end());
}

void accumulate(Tensor& total, const Tensor& gradient) {
  total = total.defined() ? add(total, gradient) : gradient;
}

// Runs one node's backward with its summed gradient and hands the results to its inputs.
void run_node(Node& node) {
  const Tensor gradient = std::move(node.pending_gradient);
  node.pending_gradient = Tensor();
  KILN_CHECK(static_cast<bool>(node.backward), "backward through '", node.op,
             "' a second time: its saved tensors were released after the first backward");
  const GradientNeeds needs(node.inputs);
  const Gradients input_gradients = node.backward(gradient, needs);
  node.backward.reset();  // releases saved activations
  KILN_CHECK(input_gradients.size() == node.inputs.size(), "backward of '", node.op, "' returned ",
             input_gradients.size(), " gradients for ", node.inputs.size(), " inputs");
  for (std::size_t i = 0; i < needs.size(); ++i) {
    if (!needs[i]) continue;
    const Tensor& input_gradient = input_gradients[i];
    KILN_CHECK(input_gradient.defined(), "backward of '", node.op, "' gave no gradient for input ", i);
    const Edge& edge = node.inputs[i];
    if (edge.node) {
      accumulate(edge.node->pending_gradient, input_gradient);
      continue;
    }
    KILN_CHECK(input_gradient.shape() == edge.leaf->shape, "backward of '", node.op, "' gave a gradient of shape ",
               shape_str(input_gradient.shape()), " for an input of shape ", shape_str(edge.leaf->shape));
    // A leaf owns its gradient (optimisers may update it in place), so the first one is copied.
    edge.leaf->grad = edge.leaf->grad.defined() ? add(edge.leaf->grad, input_gradient) : input_gradient.clone();
  }
}

}  // namespace

void Tensor::backward() const {
  KILN_CHECK(numel() == 1, "backward: expected a one-element (scalar) tensor, got ", describe(*this));
  KILN_CHECK(requires_grad(), "backward: the tensor does not require a gradient (no parameter reached it, or it was "
             "computed under NoGradGuard)");
  KILN_CHECK(!in_backward, "backward: called from inside another backward pass (higher-order gradients are not "
             "supported)");
  NoGradGuard no_grad;  // backward formulas are not themselves recorded
  const Tensor seed = Tensor::ones(shape(), dtype(), device());
  if (is_leaf()) {
    Tensor total = impl()->grad;
    accumulate(total, seed);
    impl()->grad = total;
    return;
  }
  static std::atomic<std::uint64_t> passes{0};
  thread_local PassBuffers buffers;
  // However the pass ends: no gradient is left pending (a failed pass leaves some) and the thread may run another.
  struct PassEnd {
    PassBuffers& buffers;
    ~PassEnd() {
      for (Node* node : buffers.order) node->pending_gradient = Tensor();
      in_backward = false;
    }
  };
  in_backward = true;
  const PassEnd pass_end{buffers};
  topological_order(grad_fn().get(), ++passes, buffers);
  grad_fn()->pending_gradient = seed;
  for (Node* node : buffers.order) {
    if (node->pending_gradient.defined()) run_node(*node);  // else no gradient flowed here
  }
}

}  // namespace kiln
