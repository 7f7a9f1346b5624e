#include "kiln/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "kiln/ops/elementwise.h"

namespace kiln {
namespace {
thread_local bool grad_mode = true;
}

bool grad_enabled() { return grad_mode; }

NoGradGuard::NoGradGuard() : previous_(grad_mode) { grad_mode = false; }
NoGradGuard::~NoGradGuard() { grad_mode = previous_; }

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!grad_mode) return false;
  for (const Tensor& input : inputs) {
    if (input.defined() && input.requires_grad()) return true;
  }
  return false;
}

void record(Tensor& output, std::string op, const std::vector<Tensor>& inputs, BackwardFunction backward) {
  if (!any_requires_grad(inputs)) return;
  auto node = std::make_shared<Node>();
  node->op = std::move(op);
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

// Nodes reachable from `root`, each after every node that consumes its output (so gradients are complete when run).
std::vector<Node*> topological_order(Node* root) {
  std::vector<Node*> order;
  std::unordered_set<Node*> visited;
  std::vector<std::pair<Node*, std::size_t>> stack{{root, 0}};
  visited.insert(root);
  while (!stack.empty()) {
    auto& [node, next_input] = stack.back();
    if (next_input < node->inputs.size()) {
      Node* child = node->inputs[next_input++].node.get();
      if (child != nullptr && visited.insert(child).second) stack.emplace_back(child, 0);
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return {order.rbegin(), order.rend()};  // consumers first
}

void accumulate(Tensor& total, const Tensor& gradient) {
  total = total.defined() ? add(total, gradient) : gradient;
}

}  // namespace

void Tensor::backward() const {
  KILN_CHECK(numel() == 1, "backward: expected a one-element (scalar) tensor, got ", describe(*this));
  KILN_CHECK(requires_grad(), "backward: the tensor does not require a gradient (no parameter reached it, or it was "
             "computed under NoGradGuard)");
  NoGradGuard no_grad;  // backward formulas are not themselves recorded
  const Tensor seed = Tensor::ones(shape(), dtype(), device());
  if (is_leaf()) {
    Tensor total = impl()->grad;
    accumulate(total, seed);
    impl()->grad = total;
    return;
  }
  std::unordered_map<Node*, Tensor> pending;
  pending[grad_fn().get()] = seed;
  for (Node* node : topological_order(grad_fn().get())) {
    auto found = pending.find(node);
    if (found == pending.end()) continue;  // no gradient flowed here
    const Tensor gradient = std::move(found->second);
    pending.erase(found);
    KILN_CHECK(node->backward != nullptr, "backward through '", node->op,
               "' a second time: its saved tensors were released after the first backward");
    std::vector<bool> needs(node->inputs.size());
    for (std::size_t i = 0; i < needs.size(); ++i) needs[i] = node->inputs[i].active();
    std::vector<Tensor> input_gradients = node->backward(gradient, needs);
    node->backward = nullptr;  // releases saved activations
    KILN_CHECK(input_gradients.size() == node->inputs.size(), "backward of '", node->op, "' returned ",
               input_gradients.size(), " gradients for ", node->inputs.size(), " inputs");
    for (std::size_t i = 0; i < needs.size(); ++i) {
      if (!needs[i]) continue;
      const Tensor& input_gradient = input_gradients[i];
      KILN_CHECK(input_gradient.defined(), "backward of '", node->op, "' gave no gradient for input ", i);
      const Edge& edge = node->inputs[i];
      if (edge.node) {
        accumulate(pending[edge.node.get()], input_gradient);
        continue;
      }
      KILN_CHECK(input_gradient.shape() == edge.leaf->shape, "backward of '", node->op, "' gave a gradient of shape ",
                 shape_str(input_gradient.shape()), " for an input of shape ", shape_str(edge.leaf->shape));
      // A leaf owns its gradient (optimisers may update it in place), so the first one is copied.
      edge.leaf->grad = edge.leaf->grad.defined() ? add(edge.leaf->grad, input_gradient) : input_gradient.clone();
    }
  }
}

}  // namespace kiln
